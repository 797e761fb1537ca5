import { ConfigError } from '../core/errors';

/** The page's element `#id`, which must be a `type`: a page without it is a broken build, said once at start-up. */
export function pageElement<T extends HTMLElement>(root: Document, id: string, type: { new (): T }): T {
  const element = root.getElementById(id);
  if (!(element instanceof type)) throw new ConfigError(`index.html lacks the #${id} element.`);
  return element;
}
