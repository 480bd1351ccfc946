import alawmulaw from 'alawmulaw';

const { mulaw } = alawmulaw;

/** Reference decode (the alawmulaw library), so comparisons do not trust the code under test. */
export function decodeMulawReference(bytes: Uint8Array): Int16Array {
  return mulaw.decode(bytes);
}

/** RMS of consecutive windows: a loudness envelope that survives resampling and codecs. */
export function rmsEnvelope(samples: Int16Array, sampleRateHz: number, windowMs = 20): Float64Array {
  const window = Math.round((sampleRateHz * windowMs) / 1000);
  const count = Math.floor(samples.length / window);
  const envelope = new Float64Array(count);
  for (let w = 0; w < count; w++) {
    let sum = 0;
    for (let i = w * window; i < (w + 1) * window; i++) sum += (samples[i] ?? 0) ** 2;
    envelope[w] = Math.sqrt(sum / window) / 32768;
  }
  return envelope;
}

/** Pearson correlation of `b` against `a` shifted by each lag up to ±maxLag windows; the best one. */
export function bestAlignment(a: Float64Array, b: Float64Array, maxLag: number): { lag: number; correlation: number } {
  let best = { lag: 0, correlation: -1 };
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    const pairs: [number, number][] = [];
    for (let i = 0; i < a.length; i++) {
      const j = i + lag;
      if (j >= 0 && j < b.length) pairs.push([a[i] as number, b[j] as number]);
    }
    if (pairs.length < 10) continue;
    const correlation = pearson(pairs);
    if (correlation > best.correlation) best = { lag, correlation };
  }
  return best;
}

function pearson(pairs: [number, number][]): number {
  const n = pairs.length;
  let sa = 0;
  let sb = 0;
  for (const [x, y] of pairs) {
    sa += x;
    sb += y;
  }
  const ma = sa / n;
  const mb = sb / n;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (const [x, y] of pairs) {
    cov += (x - ma) * (y - mb);
    va += (x - ma) ** 2;
    vb += (y - mb) ** 2;
  }
  return va === 0 || vb === 0 ? 0 : cov / Math.sqrt(va * vb);
}

/** Milliseconds of windows louder than `thresholdDbfs`. */
export function activeMs(envelope: Float64Array, windowMs = 20, thresholdDbfs = -40): number {
  const threshold = 10 ** (thresholdDbfs / 20);
  let windows = 0;
  for (const value of envelope) if (value > threshold) windows++;
  return windows * windowMs;
}

/** Total energy (full scale² × seconds) in dB: comparable across sample rates and padding silence. */
export function energyDb(samples: Int16Array, sampleRateHz: number): number {
  let sum = 0;
  for (const sample of samples) sum += (sample / 32768) ** 2;
  return 10 * Math.log10(sum / sampleRateHz);
}
