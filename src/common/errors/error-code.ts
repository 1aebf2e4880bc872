// The codes are part of the contract the browser, the load tests and the benchmark share.
export { ErrorCode, httpStatusOf } from '../../contract/error-code';
