/**
 * Cairn's LLM simulator: an OpenAI-compatible server with a scripted teacher and a student of set
 * skill, whose progression, filtering and yield effects emerge from a latent-difficulty model.
 * See /work/shared/docs/simulator.md and settings.ts for the settings table.
 */
export { createSimServer, type SimOptions, type SimServer, type SimStats } from './server';
export {
  DEFAULT_SIM_SETTINGS,
  parseSimSettings,
  publicSettings,
  SIM_SETTING_KEYS,
  SimSettingsError,
  simSettingsFrom,
  type ReasoningStyle,
  type SimSettings,
} from './settings';
export { SIM_MODELS, roleOf } from './answer';
