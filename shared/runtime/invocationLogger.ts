import type { InvocationContext } from '@azure/functions';
import { createLogger, type LogFields, type Logger } from '../logger.js';

/** Name of the first key of every line's fields object: marks where the fields begin. */
export const FIELDS_MARKER_KEY = 'logger';
/** Value of {@link FIELDS_MARKER_KEY}. */
export const FIELDS_MARKER_VALUE = 'aks-panorama-sync';

/**
 * The text of one line: the message, a space, then the fields as one JSON object whose first key is
 * `"logger":"aks-panorama-sync"`. The Node.js worker hands Application Insights only this text
 * (`traces.message`; `context.log` has no custom properties, see docs/deploy.md, "Alerts and the
 * workbook"), so the queries in infra/queries/ parse the fields back out of it: the last
 * ` {"logger":"aks-panorama-sync"` starts them, because JSON text never holds a space before `{"`
 * and the message (which may quote outside input) always comes first.
 */
export function invocationLogText(message: string, fields: LogFields): string {
  return `${message} ${JSON.stringify({ [FIELDS_MARKER_KEY]: FIELDS_MARKER_VALUE, ...fields })}`;
}

/**
 * A {@link Logger} writing to the Functions invocation context (correlated in Application Insights):
 * each line is {@link invocationLogText}, so it carries cluster, target and counts in a form the
 * alert and workbook queries read.
 */
export function invocationLogger(context: InvocationContext, fields: LogFields = {}): Logger {
  return createLogger((level, message, more) => {
    const text = invocationLogText(message, { ...fields, ...more, [FIELDS_MARKER_KEY]: FIELDS_MARKER_VALUE });
    if (level === 'debug') context.debug(text);
    else if (level === 'info') context.info(text);
    else if (level === 'warn') context.warn(text);
    else context.error(text);
  }, 'debug');
}
