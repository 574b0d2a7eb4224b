import { pino, type Logger } from 'pino';

/**
 * Structured JSON logs. Nothing here should ever carry patient data; the redaction is a
 * second line of defence for the headers and fields most likely to slip in.
 */
export function createLogger(level: string = 'info', destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'chartgraph' },
      redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'token', 'privateKey'], censor: '[redacted]' },
    },
    destination as pino.DestinationStream | undefined,
  );
}
