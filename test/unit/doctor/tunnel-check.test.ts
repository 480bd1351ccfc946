import { describe, expect, it } from 'vitest';
import { checkTunnel } from '../../../src/doctor/doctor.js';

describe("the doctor's tunnel check (npm run dev's ngrok tunnel)", () => {
  const url = new URL('https://bright-smile.ngrok-free.app');

  it('says nothing without NGROK_AUTHTOKEN: no tunnel is configured', () => {
    expect(checkTunnel({}, url)).toBeUndefined();
  });

  it('passes a static domain that is PUBLIC_URL, or says how to check it end to end', () => {
    expect(checkTunnel({ NGROK_AUTHTOKEN: 't', NGROK_DOMAIN: 'bright-smile.ngrok-free.app' }, url)).toMatchObject({ status: 'pass', detail: 'https://bright-smile.ngrok-free.app is PUBLIC_URL' });
    expect(checkTunnel({ NGROK_AUTHTOKEN: 't', NGROK_DOMAIN: 'bright-smile.ngrok-free.app' }, undefined)).toMatchObject({ status: 'pass', detail: expect.stringMatching(/set PUBLIC_URL to it to check it end to end/) });
  });

  it('fails, without stopping calls, a tunnel without a static domain or one that is not PUBLIC_URL', () => {
    expect(checkTunnel({ NGROK_AUTHTOKEN: 't' }, url)).toMatchObject({ status: 'fail', blocking: false, detail: expect.stringMatching(/^without NGROK_DOMAIN ngrok gives a new URL every run/) });
    expect(checkTunnel({ NGROK_AUTHTOKEN: 't', NGROK_DOMAIN: 'other.ngrok-free.app' }, url)).toMatchObject({
      status: 'fail',
      blocking: false,
      detail: "npm run dev's tunnel is https://other.ngrok-free.app, but PUBLIC_URL is https://bright-smile.ngrok-free.app: set PUBLIC_URL=https://other.ngrok-free.app so the checks above test the tunnel Twilio will use",
    });
  });
});
