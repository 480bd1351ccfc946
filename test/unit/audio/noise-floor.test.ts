import { describe, expect, it } from 'vitest';
import { NOISE_FLOOR_WINDOW_MS, NoiseFloor } from '../../../src/audio/noise-floor.js';

const FRAMES_PER_SECOND = 50;

describe('NoiseFloor', () => {
  it('knows nothing before half a second, then follows the quietest frame of the last two seconds', () => {
    const floor = new NoiseFloor();
    for (let i = 0; i < 24; i++) floor.push(100);
    expect(floor.meanSquare).toBe(Number.POSITIVE_INFINITY);
    floor.push(100);
    expect(floor.meanSquare).toBe(100);
    // Speech over the noise: its loud frames never raise the floor; one quieter frame lowers it.
    for (let i = 0; i < FRAMES_PER_SECOND; i++) floor.push(i === 10 ? 40 : 10_000);
    expect(floor.meanSquare).toBe(40);
  });

  it(`forgets a quiet stretch ${NOISE_FLOOR_WINDOW_MS} ms later, so it rises with new, louder noise`, () => {
    const floor = new NoiseFloor();
    for (let i = 0; i < FRAMES_PER_SECOND; i++) floor.push(10);
    for (let i = 0; i < (NOISE_FLOOR_WINDOW_MS / 1000) * FRAMES_PER_SECOND; i++) floor.push(500 + (i % 7));
    expect(floor.meanSquare).toBe(500);
  });
});
