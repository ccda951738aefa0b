#!/usr/bin/env node
// Entry point of the `callbridge` command. The sources are TypeScript run through tsx's loader, so there is
// no build step between a checkout and a running controller.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
