import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Matches } from 'class-validator';

export class CreateDevTokenDto {
  @ApiProperty({ example: 'u1', description: 'User id: 1-64 printable characters' })
  @IsString()
  @Matches(/^[\x21-\x7e]{1,64}$/, { message: 'userId must be 1-64 printable characters without spaces' })
  userId: string;

  @ApiPropertyOptional({ example: ['ops'], type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @IsIn(['ops'], { each: true })
  roles?: string[];
}
