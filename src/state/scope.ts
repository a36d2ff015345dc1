/**
 * The scope of writ's deployment-wide state: what every tenant shares, such as the TOTP windows
 * the airlock has spent (one secret serves every tenant). Its entities are stored with this name in
 * place of a tenant, so they ride the same apply transaction as any entity. No tenant can be named
 * so (a tenant begins with a letter or digit, PATTERNS.tenant), hence no command, read route or
 * tenant listing reaches it.
 */
export const DEPLOYMENT_SCOPE = '_deployment';

/** Where an entity write goes: the command's tenant (the default) or the deployment scope. */
export type WriteScope = 'tenant' | 'deployment';
