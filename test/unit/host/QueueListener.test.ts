import { describe, expect, it } from 'vitest';
import { decodeQueueMessageText, queueMessageValue } from '../../../host/QueueListener.js';

describe('decodeQueueMessageText', () => {
  it('decodes base64 to UTF-8 text', () => {
    const text = Buffer.from('{"ip":"10.0.0.4","tag":"aks.prod.café"}').toString('base64');
    expect(decodeQueueMessageText(text, 'base64')).toBe('{"ip":"10.0.0.4","tag":"aks.prod.café"}');
  });

  it('ignores whitespace inside base64, as Convert.FromBase64String does', () => {
    expect(decodeQueueMessageText('aGVs\nbG8=', 'base64')).toBe('hello');
  });

  it.each(['{"a":1}', 'hello', 'aGVsbG8', 'aGVs*G8='])('refuses %j, which is not strict base64', (text) => {
    expect(decodeQueueMessageText(text, 'base64')).toBeUndefined();
  });

  it('passes the text through with messageEncoding none', () => {
    expect(decodeQueueMessageText('{"a":1}', 'none')).toBe('{"a":1}');
  });
});

describe('queueMessageValue', () => {
  it('parses JSON objects and arrays', () => {
    expect(queueMessageValue(' {"a":[1,2]} ')).toEqual({ a: [1, 2] });
    expect(queueMessageValue('[1,"x"]')).toEqual([1, 'x']);
  });

  it('keeps other text, including JSON scalars and broken JSON, as a string', () => {
    expect(queueMessageValue('42')).toBe('42');
    expect(queueMessageValue('"quoted"')).toBe('"quoted"');
    expect(queueMessageValue('{not json}')).toBe('{not json}');
    expect(queueMessageValue('plain')).toBe('plain');
  });
});
