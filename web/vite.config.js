import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The API serves dist/ at /; `npm run dev` proxies the API of a local `xueji serve`.
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    chunkSizeWarningLimit: 1400,
    rollupOptions: {
      output: {
        manualChunks(id) {
          if (id.includes('node_modules/react') || id.includes('node_modules/scheduler')) return 'react';
          if (/node_modules\/(@rjsf|ajv|ajv-formats|ajv-i18n|lodash|fast-uri|json-schema)/.test(id)) return 'forms';
          return undefined;
        },
      },
    },
  },
  server: {
    proxy: {
      '/api': process.env.XUEJI_API || 'http://127.0.0.1:8000',
    },
  },
});
