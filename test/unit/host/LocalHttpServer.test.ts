import { describe, expect, it } from 'vitest';
import { compileRoute, eventGridBatchProblem } from '../../../host/LocalHttpServer.js';

describe('compileRoute', () => {
  it('matches literal segments case-insensitively and captures parameters', () => {
    const { pattern, params } = compileRoute('poison/{queue}/replay');
    expect(params).toEqual(['queue']);
    expect(pattern.exec('/api/Poison/tag-deltas/REPLAY')?.[1]).toBe('tag-deltas');
    expect(pattern.test('/api/poison/replay')).toBe(false);
  });

  it('supports optional, constrained and catch-all parameters', () => {
    expect(compileRoute('status/{cluster?}').pattern.test('/api/status')).toBe(true);
    expect(compileRoute('status/{cluster?}').pattern.exec('/api/status/aks-1')?.[1]).toBe('aks-1');
    expect(compileRoute('items/{id:int}').pattern.exec('/api/items/42')?.[1]).toBe('42');
    expect(compileRoute('files/{*path}').pattern.exec('/api/files/a/b/c')?.[1]).toBe('a/b/c');
  });
});

describe('eventGridBatchProblem', () => {
  const event = { id: '1', subject: '/s', eventType: 'T', eventTime: '2026-11-27T12:00:00Z', data: {} };

  it('accepts Event Grid schema events', () => {
    expect(eventGridBatchProblem([event, { ...event, id: '2', data: null }])).toBeUndefined();
  });

  it('names the first event and field that is wrong', () => {
    expect(eventGridBatchProblem([event, 'text'])).toBe('event [1] is not a JSON object');
    expect(eventGridBatchProblem([{ ...event, id: 7 }])).toBe(
      'event [0] has no string "id" (Event Grid schema)',
    );
    const { data: _data, ...noData } = event;
    expect(eventGridBatchProblem([noData])).toBe('event [0] has no "data" (Event Grid schema)');
  });
});
