/** A public https URL that forwards to the local server: what Twilio calls during development. */
export interface Tunnel {
  readonly url: string;
  close(): Promise<void>;
}

export interface TunnelRequest {
  /** The local port to forward to (the server's PORT). */
  port: number;
  authtoken: string;
  /** A reserved ngrok domain (NGROK_DOMAIN), so the URL, and the number's webhook, stay the same across runs. */
  domain: string | undefined;
}

/** Opens a tunnel; `npm run dev` uses ngrok, tests substitute their own. */
export type OpenTunnel = (request: TunnelRequest) => Promise<Tunnel>;

export class TunnelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TunnelError';
  }
}

/** An ngrok tunnel through the @ngrok/ngrok package (no ngrok binary or agent config needed). */
export const openNgrokTunnel: OpenTunnel = async ({ port, authtoken, domain }) => {
  // Loaded here, not at the top: without NGROK_AUTHTOKEN the dev script never loads ngrok's native module.
  const ngrok = await import('@ngrok/ngrok');
  let listener;
  try {
    listener = await ngrok.forward({ addr: `127.0.0.1:${port}`, authtoken, ...(domain === undefined ? {} : { domain }) });
  } catch (error) {
    // ngrok's messages name the problem (a rejected token is ERR_NGROK_105); they never need the token itself.
    const message = (error instanceof Error ? error.message : String(error)).split(authtoken).join('[NGROK_AUTHTOKEN]');
    throw new TunnelError(
      `ngrok could not open a tunnel: ${message}\n` +
        '  Check NGROK_AUTHTOKEN (https://dashboard.ngrok.com/get-started/your-authtoken)' +
        `${domain === undefined ? '' : `, and that NGROK_DOMAIN (${domain}) is a domain of your ngrok account`}, and that this machine can reach ngrok.`,
    );
  }
  const url = listener.url();
  if (url === null || !url.startsWith('https://')) {
    await listener.close();
    throw new TunnelError(`ngrok opened ${String(url)}, not an https URL; Twilio needs https and wss.`);
  }
  return {
    url,
    close: async () => {
      await listener.close();
    },
  };
};
