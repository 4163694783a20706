import type { InvocationContext } from '@azure/functions';
import { createLogger, type LogFields, type Logger } from '../logger.js';

/**
 * A {@link Logger} writing to the Functions invocation context (correlated in Application Insights):
 * the message followed by the fields as JSON, so every line carries cluster, target and counts.
 */
export function invocationLogger(context: InvocationContext, fields: LogFields = {}): Logger {
  return createLogger((level, message, more) => {
    const all = { ...fields, ...more };
    const text = Object.keys(all).length ? `${message} ${JSON.stringify(all)}` : message;
    if (level === 'debug') context.debug(text);
    else if (level === 'info') context.info(text);
    else if (level === 'warn') context.warn(text);
    else context.error(text);
  }, 'debug');
}
