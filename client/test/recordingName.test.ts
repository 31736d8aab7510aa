import { describe, expect, it } from 'vitest';
import { elapsedLabel, recordingName } from '../src/recording/recordingName.ts';

describe('recordings', () => {
  it('are named with the room and the local time, and safe as file names', () => {
    expect(recordingName('standup', new Date(2026, 10, 30, 9, 5, 7))).toBe('guise-standup-2026-11-30_09-05-07.webm');
    expect(recordingName('a/b c', new Date(2026, 0, 1, 0, 0, 0))).toBe('guise-a_b_c-2026-01-01_00-00-00.webm');
  });

  it('show their running time as m:ss, then h:mm:ss', () => {
    expect([0, 999, 1000, 61_500, 3_600_000 + 62_000, -5].map(elapsedLabel)).toEqual(['0:00', '0:00', '0:01', '1:01', '1:01:02', '0:00']);
  });
});
