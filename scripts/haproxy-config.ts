/** Prints the local fleet's HAProxy configuration for the instance ids given (default: agent-1 agent-2). */
import { renderHaproxyConfig } from './lib/haproxy-config.js';

const ids = process.argv.slice(2);
process.stdout.write(renderHaproxyConfig(ids.length > 0 ? ids : ['agent-1', 'agent-2']));
