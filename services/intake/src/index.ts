export { type IntakeConfig, intakeConfigSchema } from './config.js';
export { createIntake, type IntakeService } from './service.js';
export { DEFAULT_TOPICS, type IntakeTopics } from './topology.js';
