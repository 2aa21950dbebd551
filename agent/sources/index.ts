// The one registration point for agent sources. A new kind (host metrics, journald …) is a
// folder under agent/sources/ and one line here.
import { fileSourceKind } from './file/source.js';
import type { SourceKind } from './types.js';

export const SOURCE_KINDS: readonly SourceKind[] = [fileSourceKind];
