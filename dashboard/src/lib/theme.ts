// Light and dark: the system's preference by default, or the one the toggle chose (kept in localStorage).
import { useEffect, useState } from 'preact/hooks';

/** The choice: follow the system, or one theme always. */
export type ThemeChoice = 'system' | 'light' | 'dark';

const KEY = 'machineroom.theme';
const media = () => matchMedia('(prefers-color-scheme: dark)');

function readChoice(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

/** The theme in effect for a choice. */
export function effectiveTheme(choice: ThemeChoice): 'light' | 'dark' {
  return choice === 'system' ? (media().matches ? 'dark' : 'light') : choice;
}

/** Sets data-theme on <html> (the stylesheet keys its colours on it). */
export function applyTheme(choice: ThemeChoice): void {
  document.documentElement.dataset.theme = effectiveTheme(choice);
  document.documentElement.dataset.themeChoice = choice;
}

/** The theme choice and a setter; follows the system's preference while the choice is "system". */
export function useTheme(): [ThemeChoice, (c: ThemeChoice) => void] {
  const [choice, setChoice] = useState<ThemeChoice>(readChoice);
  useEffect(() => {
    applyTheme(choice);
    if (choice !== 'system') return;
    const m = media();
    const on = () => applyTheme('system');
    m.addEventListener('change', on);
    return () => m.removeEventListener('change', on);
  }, [choice]);
  const set = (c: ThemeChoice) => {
    try {
      if (c === 'system') localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, c);
    } catch {
      /* private mode: the choice lasts for this page */
    }
    setChoice(c);
  };
  return [choice, set];
}

/** Sets the theme before the first render, so the page does not flash the other one. */
export function initTheme(): void {
  applyTheme(readChoice());
}
