// Lint rules that keep the architecture honest (see docs/architecture.md):
// - src/core/ is pure: no node: modules, no drivers or frameworks, nothing outside src/core/.
// - adapters (esl, voice, agent, twilio, recording, db, queue, http, simulator) import core only, never
//   each other; src/app/ is the one place that wires them.
// - src/call/ (one call's runtime: session, conversation, hand-offs, journal) drives FreeSWITCH and the voice
//   path: it imports core, esl and voice only, never the composition root, storage, HTTP or the queue.
// - promises are never left floating: a dropped rejection on a call path is a lost call.
import tseslint from 'typescript-eslint';

const adapters = ['esl', 'voice', 'agent', 'twilio', 'recording', 'db', 'queue', 'http', 'simulator'];

const adapterRules = adapters.map((name) => ({
  files: [`src/${name}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            group: adapters.filter((other) => other !== name).flatMap((other) => [`**/${other}/*`, `**/${other}`]),
            message: 'Adapters never import each other; wire them in src/app/.',
          },
          { group: ['**/app/*', '**/cli/*', '**/call/*'], message: 'Dependencies point inward: adapters never import call, app or cli.' },
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'coverage/**', 'sql/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^node:', message: 'src/core/ is pure: no node: modules.' },
            { regex: '^(?!\\.|zod$)', message: 'src/core/ imports nothing but zod and its own files.' },
            {
              group: [...adapters, 'app', 'cli'].flatMap((outer) => [`**/${outer}/*`, `**/${outer}`]),
              message: 'src/core/ never imports outer layers.',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'process', 'setTimeout', 'setInterval', 'Buffer'],
    },
  },
  ...adapterRules,
  {
    files: ['src/call/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['app', 'cli', 'db', 'http', 'queue', 'agent', 'twilio', 'recording', 'simulator', 'peers'].flatMap((outer) => [`**/${outer}/*`, `**/${outer}`]),
              message: 'src/call/ imports only core, esl and voice: the controller (src/app/) wires the rest in.',
            },
          ],
        },
      ],
    },
  },
  {
    // src/peers/: local stand-ins for external services (tests, demo, bench). They speak the services' wire
    // protocols and may use only the spoken-audio codec and the AI engine's published contract from src/.
    files: ['src/peers/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../*', '!../simulator', '!../agent', '../simulator/*', '!../simulator/spoken-audio.ts', '../agent/*', '!../agent/contract.ts'],
              message: 'Peers stand in for external services: from src/ they use only simulator/spoken-audio.ts and agent/contract.ts.',
            },
          ],
        },
      ],
    },
  },
);
