// An HTTP answer decided by a route (400, 404 …), as opposed to a failure. The error handler sends it as
// { error, message } with its status.
export class HttpError extends Error {
  readonly statusCode: number;
  readonly errorCode: string;

  constructor(statusCode: number, errorCode: string, message: string) {
    super(message);
    this.name = 'HttpError';
    this.statusCode = statusCode;
    this.errorCode = errorCode;
  }
}
