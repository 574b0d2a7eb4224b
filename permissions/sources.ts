import { isAuthenticated } from './rules.js';

// Source health and capabilities hold no patient data: every signed-in role may see them.
export const sourcePermissions = {
  Query: { sources: isAuthenticated },
  Source: isAuthenticated,
  SourceCapabilities: isAuthenticated,
  SourceCapabilityOrigins: isAuthenticated,
};
