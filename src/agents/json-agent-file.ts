import { defineTool, DefinitionError, type Tool } from '../tools/tool.js';

const JSON_TOOL_FIELDS = new Set(['name', 'description', 'behavior', 'scheduling', 'parameters', 'url', 'timeoutMs', 'guidance']);

/**
 * The agent definitions of a `.json` agent file (one object or an array): instructions, voice, greeting and HTTP
 * tools, no code. Returns the definitions with their tools defined, or every problem found.
 */
export function jsonAgentDefinitions(text: string): { definitions: unknown[] } | { problems: string[] } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { problems: [`is not valid JSON: ${jsonErrorWithLocation(text, error as Error)}`] };
  }
  const problems: string[] = [];
  const definitions: unknown[] = [];
  for (const item of Array.isArray(data) ? data : [data]) {
    if (typeof item !== 'object' || item === null) {
      problems.push('each agent must be a JSON object');
      continue;
    }
    const raw = item as Record<string, unknown>;
    const label = `agent ${typeof raw.name === 'string' ? `"${raw.name}"` : '(unnamed)'}`;
    if (typeof raw.instructions !== 'string') problems.push(`${label}: instructions must be a string in a JSON agent`);
    if (raw.tools !== undefined && !Array.isArray(raw.tools)) problems.push(`${label}: tools must be an array`);
    const tools = (Array.isArray(raw.tools) ? raw.tools : []).flatMap((tool: unknown, index) => jsonTool(tool, label, index, problems));
    definitions.push({ ...raw, tools });
  }
  return problems.length > 0 ? { problems } : { definitions };
}

function jsonTool(tool: unknown, agentLabel: string, index: number, problems: string[]): Tool[] {
  const label = `${agentLabel}: tools[${index}]`;
  const fields = typeof tool === 'object' && tool !== null ? Object.keys(tool) : [];
  const unknown = fields.filter((field) => !JSON_TOOL_FIELDS.has(field));
  if (unknown.length > 0) problems.push(`${label} has fields a JSON tool cannot have: ${unknown.join(', ')}`);
  if (typeof tool !== 'object' || tool === null || typeof (tool as { url?: unknown }).url !== 'string') {
    problems.push(`${label} must be an HTTP tool with a url (a JSON agent has no code to run a handler)`);
    return [];
  }
  try {
    return [defineTool(tool as Parameters<typeof defineTool>[0])];
  } catch (error) {
    problems.push(...(error instanceof DefinitionError ? error.problems.map((p) => `${agentLabel}: ${p}`) : [(error as Error).message]));
    return [];
  }
}

/**
 * JSON.parse's message with the line and column of the mistake: V8 names only a character position (and, since
 * V8 11.x, sometimes the line and column too), which an editor cannot jump to.
 */
export function jsonErrorWithLocation(text: string, error: Error): string {
  const positionMatch = /\s*(?:in JSON )?at position (\d+)(?: \(line \d+ column \d+\))?/.exec(error.message);
  const position = positionMatch === null ? (/Unexpected end of JSON input/.test(error.message) ? text.length : undefined) : Number(positionMatch[1]);
  const problem = positionMatch === null ? error.message : error.message.replace(positionMatch[0], '');
  if (position === undefined) return problem;
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return `line ${line}, column ${column}: ${problem.replace(/^Unexpected end of JSON input$/, 'the file ends before the JSON does')}`;
}
