import type { ToolDefinition } from '../tool.js';
import { commandTools } from './commands.js';
import { knowledgeTools } from './knowledge.js';
import { ledgerTools } from './ledger.js';
import { readTools } from './reads.js';
import { runTools } from './runs.js';

/**
 * Every tool group the MCP transport offers, in tools/list order. A new group (the knowledge pack's
 * read tools, say) is one file beside these exporting `readonly ToolDefinition[]`, and one entry
 * here. Catalog actions need no tool of their own: `submit` runs any of them.
 */
export const TOOL_GROUPS: ReadonlyArray<readonly ToolDefinition[]> = [commandTools, readTools, ledgerTools, knowledgeTools, runTools];
