/** The editor's globals: Node-RED's `RED` (typed by @types/node-red, with the parts its types lack) and jQuery's `$`. */
import type { EditorRED } from 'node-red';
import type { TypeDef } from './definition';

interface DiasporaNodes extends Omit<EditorRED['nodes'], 'registerType' | 'getType'> {
  /** Node-RED ≥ 3.1 validators may return a message instead of false; @types/node-red predates that. */
  registerType(type: string, def: TypeDef): void;
  getType(type: string): (TypeDef & { _?: (key: string, params?: Record<string, unknown>) => string }) | undefined;
  registry?: { getNodeSetForType(type: string): { id: string } | undefined };
}

declare global {
  const RED: Omit<EditorRED, 'nodes' | '_'> & {
    nodes: DiasporaNodes;
    _(key: string, params?: Record<string, unknown>): string;
  };
}
