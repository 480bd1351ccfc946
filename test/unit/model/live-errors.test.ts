import { describe, expect, it } from 'vitest';
import { liveFailureAdvice, parseLiveClose, type LiveFailureContext } from '../../../src/model/gemini/live-errors.js';
import { twilioErrorAdvice } from '../../../src/telephony/twilio-errors.js';

const api: LiveFailureContext = { model: 'gemini-2.5-flash-native-audio-latest', backend: 'gemini-api', apiVersion: 'v1beta' };
const vertex: LiveFailureContext = { model: 'projects/p/locations/us-central1/publishers/google/models/gemini-live-2.5-flash-native-audio', backend: 'vertex-ai', apiVersion: undefined };

describe('what to change, for each refusal of the Live service users see', () => {
  it('reads the code and reason out of the SDK\'s setup failure', () => {
    expect(parseLiveClose('Live connection closed before setup completed (code 1008): models/x is not found for API version v1')).toEqual({ code: 1008, reason: 'models/x is not found for API version v1' });
    expect(parseLiveClose('Unexpected server response: 401')).toBeUndefined();
  });

  it('1007: names the field and the agent setting behind it, a bad key, or the setup in general', () => {
    expect(liveFailureAdvice(1007, 'Invalid JSON payload received. Unknown name "proactivity" at \'setup\': Cannot find field.', api)).toBe(
      'Gemini does not know the setup field "proactivity" for model gemini-2.5-flash-native-audio-latest on Gemini API (API version v1beta): remove the agent\'s proactiveAudio, or use the model and API version that offer it (docs/models.md)',
    );
    expect(liveFailureAdvice(1007, 'API key not valid. Please pass a valid API key.', api)).toMatch(/^GEMINI_API_KEY is not a valid key/);
    expect(liveFailureAdvice(1007, "Invalid value at 'setup.generation_config.temperature'", api)).toMatch(/refused the value of setup\.generation_config\.temperature/);
    expect(liveFailureAdvice(1007, 'Invalid JSON payload received. Unknown name "language_codes" at \'setup.input_audio_transcription\': Cannot find field.', api)).toMatch(
      /"language_codes" .*: remove the agent's inputTranscription\.languages, or use the model/,
    );
    expect(liveFailureAdvice(1007, 'Request contains an invalid argument.', api)).toMatch(/an agent feature, turn setting, transcription hint or tool behaviour this model does not take, or an unknown voice/);
  });

  it('1008: a model not found for this API version or region, a policy refusal, a missing key, quota', () => {
    expect(liveFailureAdvice(1008, 'models/gemini-9 is not found for API version v1beta, or is not supported for bidiGenerateContent.', api)).toMatch(/is not a Live model this key can use: set GEMINI_MODEL/);
    expect(liveFailureAdvice(1008, 'Publisher Model `projects/p/locations/us-central1/publishers/google/models/x` not found.', vertex)).toMatch(
      /^model gemini-live-2\.5-flash-native-audio on Vertex AI \(API version the SDK default\) is not offered in this Google Cloud project and location: check GEMINI_MODEL and GOOGLE_CLOUD_LOCATION/,
    );
    expect(liveFailureAdvice(1008, 'Operation is not implemented, or supported, or enabled.', api)).toMatch(/policy.*docs\/models\.md/);
    expect(liveFailureAdvice(1008, "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.", api)).toMatch(/^no API key reached Gemini/);
    expect(liveFailureAdvice(1008, 'Resource has been exhausted (e.g. check quota).', api)).toMatch(/out of Live API quota/);
  });

  it('1011: unavailable, deadline expired, internal', () => {
    expect(liveFailureAdvice(1011, 'The service is currently unavailable.', api)).toMatch(/unavailable right now/);
    expect(liveFailureAdvice(1011, 'Deadline expired before operation could complete.', api)).toMatch(/deadline expired/);
    expect(liveFailureAdvice(1011, 'Internal error encountered.', api)).toMatch(/failed internally/);
    expect(liveFailureAdvice(1000, '', api)).toBeUndefined();
  });

  it("Twilio's codes: 11200, 31920, 31921, 31924 and the connection ones", () => {
    expect(twilioErrorAdvice(11200)).toMatch(/voice URL must be PUBLIC_URL\/voice with POST/);
    expect(twilioErrorAdvice('31920')).toMatch(/must pass WebSocket upgrades/);
    expect(twilioErrorAdvice(31921)).toMatch(/closed a media stream/);
    expect(twilioErrorAdvice(31924)).toMatch(/rewrites WebSocket frames/);
    expect(twilioErrorAdvice(31901)).toMatch(/timed out/);
    expect(twilioErrorAdvice(12345)).toBeUndefined();
    expect(twilioErrorAdvice(undefined)).toBeUndefined();
  });
});
