import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { IsOptionalNotNull } from '../../sales/dto/validators';

/** The body of joining a waiting room or entering a lottery: an F-code makes a buyer without a reservation eligible. */
export class AdmissionFcodeDto {
  @ApiPropertyOptional({ example: 'F7K2-9XQ4-M3PA-C', description: 'An F-code for this sale, for buyers without a reservation' })
  @IsOptionalNotNull()
  @IsString()
  @Length(1, 64)
  fcode?: string;
}
