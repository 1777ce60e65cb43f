// Uses the generated types the way an app would; `tsc --noEmit` must pass.
import type {
  BranchEntitiesQuery,
  ChangesSubscription,
  HistoryQuery,
  MergePreviewMutation,
  NodeQuery,
  UpdateDescriptionMutationVariables,
} from './generated/operations';
import type { MutationCreateBranchArgs, Node, ObjectType, Scalars } from './generated/schema';
// @ts-expect-error the root types are Query, Mutation, Subscription: no `MutationRoot…` names
import type { MutationRootCreateBranchArgs } from './generated/schema';

export const args: MutationCreateBranchArgs = { name: 'feature', from: 'main' };
export const update: UpdateDescriptionMutationVariables = { branch: 'main', apiName: 'Employee', expectedVersion: 1 };

// Global ids are strings (ID), one per cached object.
export function changeIds(q: HistoryQuery): string[] {
  return q.branch?.commits.edges.flatMap((e) => e.node.changes.map((c) => c.id)) ?? [];
}

// DateTime is mapped to string.
export function latest(q: HistoryQuery): string | undefined {
  return q.branch?.commits.edges[0]?.node.timestamp;
}
export const created = (q: BranchEntitiesQuery): string | undefined => q.branch?.createdAt;

// JSON is mapped to unknown: narrow it before use.
export function baseDescription(m: MergePreviewMutation): string | undefined {
  const base = m.mergeBranch.conflicts[0]?.base;
  return typeof base === 'string' ? base : undefined;
}

// node(id:) answers the Node interface; __typename narrows it.
export function nodeLabel(q: NodeQuery): string {
  const n = q.node;
  if (!n) return 'gone';
  switch (n.__typename) {
    case 'ObjectType':
      return `${n.apiName} v${n.version}`;
    case 'Commit':
      return `commit ${n.version} at ${n.timestamp}`;
    default:
      return n.id;
  }
}

export const commitVersion = (s: ChangesSubscription): number => s.changes.version;

// Every Node has its id; DateTime is a string in the schema types too.
export const idOf = (n: Node): string => n.id;
export const objectTypeId = (t: Pick<ObjectType, 'id' | 'apiName'>): Scalars['ID']['output'] => t.id;
export const stamp: Scalars['DateTime']['output'] = '2024-05-31T14:00:00Z';
