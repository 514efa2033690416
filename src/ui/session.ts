import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Role, Session } from './api.ts';

/** The signed-in token's name and role, for the pages. */
export const SessionContext = createContext<Session>({ name: '', role: 'viewer' });

export function useSession(): Session {
  return useContext(SessionContext);
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/**
 * Whether the role may do what needs `least`. The dashboard only hides what a role cannot do;
 * the API refuses it anyway (403).
 */
export function roleAllows(role: Role, least: Role): boolean {
  return RANK[role] >= RANK[least];
}
