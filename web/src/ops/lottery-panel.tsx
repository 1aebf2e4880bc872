import { useState } from 'preact/hooks';
import { ErrorNotice, Notice } from '../shared/components';
import { formatCount, formatDateTime } from '../shared/format';
import type { LotteryResult, Sale } from '@sellout/contract';
import { tokenOrThrow } from './context';
import { commitLottery, drawLottery } from './ops-api';

/**
 * The lottery of a sale: commit to a secret seed before entries close (its SHA-256 is public from then
 * on), draw after, and see the result with the revealed seed.
 */
export function LotteryPanel(props: { sale: Sale; now: number; onChange: () => void }) {
  const { sale, now } = props;
  const [result, setResult] = useState<LotteryResult | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const closesAt = Date.parse(sale.lotteryClosesAt);
  const seedHash = sale.lottery?.seedHash ?? null;

  const act = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      props.onChange();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card stack" aria-labelledby="lottery-heading" data-testid="ops-lottery">
      <h2 id="lottery-heading">Lottery</h2>
      <p class="muted">
        Entries close on {formatDateTime(sale.lotteryClosesAt)}. Winners buy within {formatCount(sale.purchaseWindowSeconds)} s of the start; units they leave pass to the next in the draw.
      </p>
      {seedHash === null ? (
        now < closesAt ? (
          <>
            <p>Commit to a seed before entries close: the service draws a secret seed and publishes its SHA-256 on the sale, so the draw cannot be chosen afterwards.</p>
            <button type="button" disabled={busy} onClick={() => act(async () => void (await commitLottery(tokenOrThrow(), sale.id)))} data-testid="lottery-commit">
              Commit to a seed
            </button>
          </>
        ) : (
          <Notice kind="warning" title="No seed was committed">
            <p>Entries closed without a committed seed, so this lottery cannot be drawn verifiably.</p>
          </Notice>
        )
      ) : (
        <p>
          Committed seed hash: <code data-testid="lottery-seed-hash">{seedHash}</code>
        </p>
      )}
      {seedHash !== null && now >= closesAt ? (
        <button type="button" disabled={busy} onClick={() => act(async () => setResult(await drawLottery(tokenOrThrow(), sale.id)))} data-testid="lottery-draw">
          {sale.lottery?.drawn ? 'Show the draw' : 'Draw'}
        </button>
      ) : null}
      {result !== undefined ? (
        <div data-testid="lottery-result">
          <p>
            Seed: <code>{result.seed}</code>
          </p>
          <p>
            {formatCount(result.entries.length)} entries, {formatCount(result.winners.length)} admitted so far in {result.rounds.length} round{result.rounds.length === 1 ? '' : 's'}
            {result.rounds.length > 0 ? ` (the last buys by ${formatDateTime(result.rounds[result.rounds.length - 1].buyBy)})` : ''}.
          </p>
          <p>
            <a href={`/api/sales/${encodeURIComponent(sale.id)}/lottery/result`}>The published result</a> lets anyone check the draw.
          </p>
        </div>
      ) : null}
      <ErrorNotice error={error} />
    </section>
  );
}
