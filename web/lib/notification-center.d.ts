// TypeScript declarations of notification-center.js: the
// <fbdi-notification-center> custom element. Loading the module defines the
// element (when customElements exists and the name is free).

import type { NotificationService } from "./notifications.js";
import type { NotificationFeed } from "./feed.js";

/**
 * The element's HTML attributes. Each is read when the element needs it:
 * url, token-url and token-in when it is inserted without a service,
 * history-on-connect when it starts following a service; only open is
 * observed.
 */
export interface NotificationCenterAttributes {
  /** Present: the panel is shown (the property open). */
  open?: boolean | "";
  /** The stage URL of the service the element creates (default this origin's ws:// or wss:// root). */
  url?: string;
  /**
   * Present (and no service set): the element creates, connects and, when
   * removed, disconnects its own service; the token comes from a GET of this
   * URL (same-origin credentials), answering {"token": "..."}.
   */
  "token-url"?: string;
  /** tokenIn of the service the element creates: "protocol" (default) or "query". */
  "token-in"?: "protocol" | "query";
  /** How many history items to load for their read state after each resume (default 20; 0: none). */
  "history-on-connect"?: string | number;
}

/**
 * The <fbdi-notification-center> element: a bell with the unread count and a
 * panel listing notifications newest first, with Mark read, Archive and Mark
 * all read; a transaction is one item with a progress bar and its steps.
 * Filters (All or Unread, and a category) narrow the list and load the
 * matching history; Preferences shows a checkbox per category and channel. Shadow DOM
 * (open); CSS parts "bell" and "panel". It dispatches no events of its own:
 * listen to its service, or subscribe to its feed.
 */
export declare class NotificationCenter extends HTMLElement {
  /** ["open"]. */
  static readonly observedAttributes: string[];
  /**
   * The NotificationService shown. Setting it follows that one: the element
   * never connects a service it was given, and disconnects one it created.
   */
  get service(): NotificationService | null;
  set service(service: NotificationService | null | undefined);
  /** The NotificationFeed the element draws (null without a service). */
  readonly feed: NotificationFeed | null;
  /** Whether the panel is shown (reflects the attribute open). */
  open: boolean;
  /** Custom element callback: creates its own service from token-url when it has none, and connects a service it created. */
  connectedCallback(): void;
  /** Custom element callback: disconnects a service it created. */
  disconnectedCallback(): void;
  /** Custom element callback: shows or hides the panel when open changes. */
  attributeChangedCallback(name: string, oldValue: string | null, newValue: string | null): void;
}

declare global {
  interface HTMLElementTagNameMap {
    "fbdi-notification-center": NotificationCenter;
  }
}
