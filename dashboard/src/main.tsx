// Entry: theme first (no flash), then the stream, then the page.
import { render } from 'preact';
import { App } from './app.js';
import { initTheme } from './lib/theme.js';
import { connectRoom } from './state/room.js';
import { room } from './state/app-store.js';
import './styles.css';

initTheme();
connectRoom(room);
render(<App />, document.getElementById('app')!);
