import { configureEngineMemory } from '../../src/store/engine-memory';

describe('embedded engine memory', () => {
  const saved = process.env.JE_MALLOC_CONF;
  afterEach(() => {
    if (saved === undefined) delete process.env.JE_MALLOC_CONF;
    else process.env.JE_MALLOC_CONF = saved;
  });

  test('freed pages are returned at once unless the environment configures the allocator', () => {
    delete process.env.JE_MALLOC_CONF;
    configureEngineMemory();
    expect(process.env.JE_MALLOC_CONF).toBe('dirty_decay_ms:0,muzzy_decay_ms:0');
    process.env.JE_MALLOC_CONF = 'dirty_decay_ms:5000';
    configureEngineMemory();
    expect(process.env.JE_MALLOC_CONF).toBe('dirty_decay_ms:5000');
  });
});
