/**
 * gemini-phone-agent: phone calls through Twilio, answered by your agent on Gemini Live.
 *
 * The public API: define agents and tools, start the service, and (advanced) the model contract another realtime
 * model implements to take Gemini's place. Everything else in this package is internal.
 * Guide: docs/agents.md (agents, tools, HTTP tools, several agents), docs/configuration.md (settings),
 * docs/realtime-model.md (the model contract).
 */
import { loadAgentFile } from './agents/load-agents.js';
import type { Agent } from './agents/agent.js';
// Agent files importing `gemini-phone-agent` get this very module: the running copy of the package.
import * as packageApi from './index.js';

export { defineAgent, DEFAULT_CUES, DEFAULT_VOICEMAIL_INSTRUCTIONS } from './agents/agent.js';
export type { Agent, AgentCues, AgentDefinition, Instructions, VoicemailSetting } from './agents/agent.js';
export type { LocalDetector, TurnTakingSettings } from './agents/turn-taking.js';
export { AgentLoadError } from './agents/load-agents.js';
export { defineTool, ToolError, DefinitionError } from './tools/tool.js';
export type { CallFinish, Tool, ToolBehavior, ToolCallInfo, ToolContext, ToolErrorOptions, ToolDefinition, HandlerToolDefinition, HttpToolDefinition, ObjectParameter, ParameterSchema, InferObject } from './tools/tool.js';
export { signToolRequest, verifyToolRequestSignature, TOOL_SIGNATURE_HEADER } from './tools/http-tool.js';
export type { HttpToolRequest } from './tools/http-tool.js';
export { startPhoneAgent, StartupError } from './service/phone-agent.js';
export type { PhoneAgentOptions, PhoneAgentService } from './service/phone-agent.js';
export type {
  PhoneAgentSettings,
  GeminiSettings,
  TwilioSettings,
  CallLimitSettings,
  ConnectionSettings,
  StoreSettings,
  HistorySettings,
  CostSettings,
  TracingSettings,
  FleetSettings,
  RecordingSettings,
  LoggingSettings,
  LogLevel,
  BrowserPhoneSettings,
  MetricsSettings,
  ToolSettings,
  OutboundSettings,
} from './settings/phone-agent-settings.js';
export type { CallDetails } from './domain/call-details.js';
export type { EndReason } from './domain/end-reasons.js';
export type { CallEvent, CallSummary } from './observability/call-events.js';
export type { TokenUsage } from './costs/usage-meter.js';
export type { CallCost } from './costs/call-cost.js';
export type { CallRecord, TranscriptLine, ToolCallRecord, BargeInRecord, TurnRecord, LatencyFigures, SessionSwitchRecord } from './history/call-record.js';
export type { CallEndedPayload } from './history/call-ended-webhook.js';
export { DELIVERY_HEADER } from './history/call-ended-webhook.js';
export { GEMINI_VOICES } from './model/gemini/voices.js';
export type { GeminiVoice } from './model/gemini/voices.js';
export { BASIC_CAPABILITIES } from './model/realtime-model.js';
export type {
  AgentModelSettings,
  ConversationEvent,
  ConversationHooks,
  ConversationSettings,
  ConversationStats,
  InputTranscriptionSettings,
  ModelCapabilities,
  ModelFeatures,
  ModelInputAudio,
  ModelLog,
  ModelOutputAudio,
  RealtimeConversation,
  RealtimeModel,
  ReconnectReason,
  SessionSwitchReason,
  ThinkingLevel,
  ThinkingSetting,
  TokenCounts,
  ToolAnswer,
  ToolCall,
  ToolDeclaration,
  ToolFailure,
  ToolFailureStatus,
  ToolResultScheduling,
  TurnDetection,
  TurnSettings,
  UsageReport,
} from './model/realtime-model.js';

/**
 * Loads the agents of an agent file (what AGENT names): a module (.ts, .mts, .cts, .js, .mjs, .cjs, ES module or
 * CommonJS in any project) exporting an agent or an array of agents, or a data-only .json agent. Throws an
 * AgentLoadError naming the file and every problem. Relative paths resolve from `cwd` (default: the working
 * directory).
 */
export function loadAgents(path: string, cwd?: string): Promise<Agent[]> {
  return loadAgentFile(path, { cwd, packageApi });
}
