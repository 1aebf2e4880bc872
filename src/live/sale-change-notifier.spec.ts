import type { LiveGateway } from './live.gateway';
import { CHANGE_NOTICE_GAP_MS, SaleChangeNotifier } from './sale-change-notifier';

describe(SaleChangeNotifier.name, () => {
  let published: string[];
  let notifier: SaleChangeNotifier;

  beforeEach(() => {
    jest.useFakeTimers();
    published = [];
    notifier = new SaleChangeNotifier({ publishChanged: (saleId: string) => published.push(saleId) } as unknown as LiveGateway);
  });
  afterEach(() => {
    notifier.onModuleDestroy();
    jest.useRealTimers();
  });

  it('announces the first change of a sale at once', () => {
    notifier.saleChanged('s_1');
    expect(published).toEqual(['s_1']);
  });

  describe('when many changes come within the gap', () => {
    it('announces them once, at the end of the gap', () => {
      for (let purchase = 0; purchase < 1000; purchase += 1) notifier.saleChanged('s_1');
      expect(published).toEqual(['s_1']);
      jest.advanceTimersByTime(CHANGE_NOTICE_GAP_MS);
      expect(published).toEqual(['s_1', 's_1']);
      jest.advanceTimersByTime(10 * CHANGE_NOTICE_GAP_MS);
      expect(published).toEqual(['s_1', 's_1']);
    });

    it('keeps sales apart', () => {
      notifier.saleChanged('s_1');
      notifier.saleChanged('s_2');
      notifier.saleChanged('s_2');
      expect(published).toEqual(['s_1', 's_2']);
      jest.advanceTimersByTime(CHANGE_NOTICE_GAP_MS);
      expect(published).toEqual(['s_1', 's_2', 's_2']);
    });
  });

  it('announces a change still pending when the process stops', () => {
    notifier.saleChanged('s_1');
    notifier.saleChanged('s_1');
    notifier.onModuleDestroy();
    expect(published).toEqual(['s_1', 's_1']);
  });

  it('announces at once again after a quiet gap', () => {
    notifier.saleChanged('s_1');
    jest.advanceTimersByTime(CHANGE_NOTICE_GAP_MS);
    notifier.saleChanged('s_1');
    expect(published).toEqual(['s_1', 's_1']);
  });
});
