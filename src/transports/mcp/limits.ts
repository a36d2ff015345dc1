/** Room for the JSON-RPC framing around a tool's arguments (method, id, tool name): a message may be this much larger. */
export const MCP_FRAMING_BYTES = 16 * 1024;
/** JSON-RPC nests a command's payload four levels below the message's top (params.arguments.payload). */
export const MCP_FRAMING_DEPTH = 4;
