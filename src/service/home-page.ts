import express from 'express';
import { BROWSER_PHONE_PATH, HEALTH_PATH, READY_PATH, VOICE_WEBHOOK_PATH } from '../telephony/routes.js';

export interface HomeOptions {
  /** The browser phone is on (by default outside production): the home page shows the way to it. */
  browserPhone: boolean;
}

/**
 * `GET /`: what this server is and, with the browser phone on, the way to it. The page never holds the access
 * key (anyone who can reach the server could read it): it points at the URL printed in the terminal instead.
 * `GET /favicon.ico` answers 204, so browsers stop asking and consoles stay free of 404s.
 */
export function homeRoutes({ browserPhone }: HomeOptions): express.Router {
  const router = express.Router();
  router.get('/', (_req, res) => {
    res.set({ 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' });
    if (!browserPhone) {
      res.type('text/plain').send(`Gemini Live phone agent: running. Twilio calls it at ${VOICE_WEBHOOK_PATH}; health at ${HEALTH_PATH} and ${READY_PATH}.\n`);
      return;
    }
    res.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'");
    res.type('html').send(HOME_PAGE);
  });
  router.get('/favicon.ico', (_req, res) => {
    res.status(204).set('Cache-Control', 'public, max-age=86400').end();
  });
  return router;
}

const HOME_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Gemini Live phone agent</title>
  <link rel="icon" href="${BROWSER_PHONE_PATH}/favicon.svg" type="image/svg+xml">
  <style>body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; } code { background: #f2f2f2; padding: 0 .25em; }</style>
</head>
<body>
  <h1>Gemini Live phone agent</h1>
  <p>The service is running.</p>
  <p><strong>Talk to it from this browser:</strong> open the browser phone with the link <code>npm start</code> printed in
    its terminal, <code>http://localhost:…${BROWSER_PHONE_PATH}#key=…</code>. The key in it is the page's access key,
    printed only there; it changes at every start unless <code>BROWSER_PHONE_KEY</code> is set.</p>
  <p>Without the key, <a href="${BROWSER_PHONE_PATH}">${BROWSER_PHONE_PATH}</a> says so and cannot place a call.</p>
  <p>Health: <a href="${HEALTH_PATH}">${HEALTH_PATH}</a>. Twilio calls it at <code>POST ${VOICE_WEBHOOK_PATH}</code> (see docs/twilio.md).</p>
</body>
</html>
`;
