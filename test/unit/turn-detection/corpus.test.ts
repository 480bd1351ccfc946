import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadTurnCorpus, TURN_CORPUS_DIR } from '../../support/turn-corpus.js';

/** The committed corpus and its labels agree (scripts/make-turn-corpus.ts writes both). */
describe('turn-taking corpus', () => {
  const corpus = loadTurnCorpus();

  it('has every group, and audio exactly as long as its labels say', () => {
    expect(new Set(corpus.scenes.map((s) => s.group))).toEqual(new Set(['barge-in', 'backchannel', 'echo', 'noise', 'turn']));
    for (const scene of corpus.scenes) {
      expect(statSync(`${TURN_CORPUS_DIR}${scene.file}`).size, scene.name).toBe(scene.durationMs * 8);
      // Every scene with echo also comes without it, as long.
      expect(scene.dryFile === undefined, scene.name).toBe(scene.echo === undefined);
      if (scene.dryFile !== undefined) expect(statSync(`${TURN_CORPUS_DIR}${scene.dryFile}`).size, scene.name).toBe(scene.durationMs * 8);
      if (scene.agent !== undefined) expect(statSync(`${TURN_CORPUS_DIR}${scene.agent.file}`).size).toBeGreaterThanOrEqual((scene.agent.endMs - scene.agent.startMs) * 8);
    }
  });

  it('places every caller segment inside its scene, pauses inside their segment, and only what each group measures', () => {
    for (const scene of corpus.scenes) {
      for (const segment of scene.caller) {
        expect(segment.startMs).toBeGreaterThanOrEqual(0);
        expect(segment.endMs).toBeGreaterThan(segment.startMs);
        expect(segment.endMs).toBeLessThanOrEqual(scene.durationMs);
        for (const pause of segment.pauses) expect(pause.startMs > segment.startMs && pause.endMs < segment.endMs).toBe(true);
      }
      const kinds = scene.caller.map((c) => c.kind);
      if (scene.group === 'echo' || scene.group === 'noise') expect(kinds).toEqual([]);
      if (scene.group === 'backchannel') expect(kinds.every((k) => k === 'backchannel')).toBe(true);
      if (scene.group === 'barge-in' || scene.group === 'turn') expect(kinds).toEqual(['sentence']);
      if (scene.group === 'turn') expect(scene.agent).toBeUndefined();
      else expect(scene.agent).toBeDefined();
    }
  });
});
