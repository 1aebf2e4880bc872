import { ApiError } from '../shared/api';
import { TokenStore } from '../shared/auth';

/** The operator's token; separate from a buyer's so one tab can be the shop and another the console. */
export const opsTokens = new TokenStore('sellout.opsToken');

/** The operator's token for a request; a signed-out console answers as the API would. */
export function tokenOrThrow(): string {
  const token = opsTokens.get();
  if (token === null) throw new ApiError(401, 'UNAUTHENTICATED', 'Signed out');
  return token;
}

/** Hands `text` to the browser as a download named `name`. */
export function saveFile(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = name;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
