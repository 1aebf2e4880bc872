import { useEffect, useState } from 'preact/hooks';
import { ErrorNotice, Notice } from '../shared/components';
import { describeDuration, formatCount, formatDateTime } from '../shared/format';
import { usePolling } from '../shared/hooks';
import type { LotteryStatus, QueueStatus, Sale } from '@sellout/contract';
import { enterLottery, fetchLotteryStatus, fetchQueueStatus, joinQueue } from './store-api';

/** How often a buyer in line asks for their place: often enough to see it move, jittered by the poller. */
const QUEUE_POLL_MS = 2000;
const LOTTERY_POLL_MS = 10_000;

export interface AdmissionPanelProps {
  sale: Sale;
  token: string;
  now: number;
  /** The F-code typed on the page, offered instead of a reservation when joining or entering. */
  fcode?: string;
  /** Called with the buyer's admission token while they hold one (undefined otherwise). */
  onAdmission: (admissionToken: string | undefined) => void;
}

/** The waiting room or the lottery of a sale, for the signed-in buyer; the Buy button waits for its token. */
export function AdmissionPanel(props: AdmissionPanelProps) {
  return props.sale.admission === 'queue' ? <WaitingRoomPanel {...props} /> : <LotteryPanel {...props} />;
}

function WaitingRoomPanel({ sale, token, now, fcode, onAdmission }: AdmissionPanelProps) {
  const [status, setStatus] = useState<QueueStatus | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [joining, setJoining] = useState(false);
  const held = status?.admissionToken !== undefined;

  const refresh = async () => {
    const current = await fetchQueueStatus(sale.id, token);
    setStatus(current);
    onAdmission(current?.admissionToken);
  };
  usePolling(refresh, { intervalMs: QUEUE_POLL_MS, enabled: !held }, [sale.id, token]);
  // Once admitted, the token is kept until it expires; then the page asks again (and shows it lapsed).
  useEffect(() => {
    if (!held || status?.admissionExpiresAt === undefined) return undefined;
    const timer = setTimeout(() => void refresh(), Math.max(0, Date.parse(status.admissionExpiresAt) - now) + 500);
    return () => clearTimeout(timer);
  }, [held, status?.admissionExpiresAt]);

  const onJoin = async () => {
    setJoining(true);
    setError(undefined);
    try {
      const joined = await joinQueue(sale.id, token, fcode);
      setStatus(joined);
      onAdmission(joined.admissionToken);
    } catch (caught) {
      setError(caught);
    } finally {
      setJoining(false);
    }
  };

  const opensAt = Date.parse(sale.queueOpensAt);
  return (
    <section aria-labelledby="queue-heading" data-testid="waiting-room">
      <h2 id="queue-heading">Waiting room</h2>
      {status === undefined ? (
        <p class="muted">Checking your place…</p>
      ) : status === null ? (
        now < opensAt ? (
          <p>The waiting room opens on {formatDateTime(sale.queueOpensAt)}.</p>
        ) : (
          <>
            <p>
              This sale lets buyers in through a waiting room. Everyone who joins before the start gets a random place among them, so there is no
              need to rush: joining early or many times does not move you forward.
            </p>
            <button type="button" onClick={onJoin} disabled={joining} data-testid="join-queue">
              {joining ? 'Joining…' : 'Join the waiting room'}
            </button>
          </>
        )
      ) : status.soldOut ? (
        <Notice kind="warning" title="Sold out" testId="queue-sold-out">
          <p>Every unit has been sold, so nobody is being let in. If units come back (unpaid orders), the line moves again; this page updates by itself.</p>
        </Notice>
      ) : status.admissionToken !== undefined ? (
        <Notice kind="success" title="It is your turn" testId="queue-admitted">
          <p>You can buy now, until {formatDateTime(status.admissionExpiresAt as string)}.</p>
        </Notice>
      ) : status.admitted ? (
        <Notice kind="info" title="Your turn has passed" testId="queue-expired">
          <p>You were let in but did not buy before {formatDateTime(status.admissionExpiresAt as string)}.</p>
        </Notice>
      ) : (
        <p data-testid="queue-position" aria-live="polite">
          Your place in line: <strong>{formatCount(status.position)}</strong> ({formatCount(status.ahead)} ahead of you). Estimated wait:{' '}
          {describeDuration(status.etaSeconds * 1000)}
          {now < Date.parse(sale.startsAt) ? '. Places are shuffled at the start among everyone who joined before it, so yours may still change.' : '.'}
        </p>
      )}
      <ErrorNotice error={error} />
    </section>
  );
}

function LotteryPanel({ sale, token, now, fcode, onAdmission }: AdmissionPanelProps) {
  const [status, setStatus] = useState<LotteryStatus | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [entering, setEntering] = useState(false);

  const refresh = async () => {
    const current = await fetchLotteryStatus(sale.id, token);
    setStatus(current);
    onAdmission(current.admissionToken);
  };
  usePolling(refresh, { intervalMs: LOTTERY_POLL_MS }, [sale.id, token]);

  const onEnter = async () => {
    setEntering(true);
    setError(undefined);
    try {
      await enterLottery(sale.id, token, fcode);
      await refresh();
    } catch (caught) {
      setError(caught);
    } finally {
      setEntering(false);
    }
  };

  const closesAt = Date.parse(sale.lotteryClosesAt);
  const resultUrl = `/api/sales/${encodeURIComponent(sale.id)}/lottery/result`;
  return (
    <section aria-labelledby="lottery-heading" data-testid="lottery">
      <h2 id="lottery-heading">Lottery</h2>
      {status === undefined ? (
        <p class="muted">Checking your entry…</p>
      ) : status.won && status.buyBy !== undefined ? (
        <Notice kind="success" title="You won" testId="lottery-won">
          <p>{status.admissionToken !== undefined ? `Buy by ${formatDateTime(status.buyBy)}.` : `Your time to buy ended on ${formatDateTime(status.buyBy)}.`}</p>
        </Notice>
      ) : status.drawn ? (
        <Notice kind="info" title={status.entered ? 'Not drawn' : 'The draw has taken place'} testId="lottery-lost">
          <p>
            {status.entered
              ? `Your place in the draw is ${formatCount(status.rank ?? 0)}. If winners leave units unbought, they pass to the next places in the draw; this page updates by itself.`
              : 'You did not enter this lottery.'}
          </p>
        </Notice>
      ) : status.entered ? (
        <p data-testid="lottery-entered">Entered ✓ The draw takes place after entries close on {formatDateTime(sale.lotteryClosesAt)}.</p>
      ) : now < closesAt ? (
        <>
          <p>This sale is a lottery: enter before {formatDateTime(sale.lotteryClosesAt)}; winners are drawn after that, and only they can buy.</p>
          <button type="button" onClick={onEnter} disabled={entering} data-testid="enter-lottery">
            {entering ? 'Entering…' : 'Enter the lottery'}
          </button>
        </>
      ) : (
        <p>Entries closed on {formatDateTime(sale.lotteryClosesAt)}.</p>
      )}
      <details>
        <summary>How to check the draw</summary>
        <p>
          Before entries closed, the shop published the SHA-256 of a secret seed{sale.lottery?.seedHash ? ` (${sale.lottery.seedHash})` : ''}. At the draw it reveals the seed:
          each entry is ranked by SHA-256(seed + ":" + user id), lowest first, and the first places win. The{' '}
          <a href={resultUrl}>published result</a> lists the seed, the SHA-256 of every entrant's user id and of the winners in order, so you can check
          that SHA-256(seed) matches, that your id is in it, and where it ranks.
        </p>
      </details>
      <ErrorNotice error={error} />
    </section>
  );
}
