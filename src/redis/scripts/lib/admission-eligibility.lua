-- admissionRefusal(fcodeKey, fcodeHash, reservationsKey, userId, now, reservationRequired): why this buyer
-- may not join a waiting room or enter a lottery ('FCODE_INVALID' or 'NOT_ELIGIBLE'), or nil when they may.
-- An F-code proves eligibility if it is known, not void, not expired and not bound to another buyer;
-- without one, a sale that requires a reservation needs the buyer's. (The purchase script checks the code
-- again, with redemption, when the buyer buys.)
local function admissionRefusal(fcodeKey, fcodeHash, reservationsKey, userId, now, reservationRequired)
  if fcodeHash ~= '' then
    local code = redis.call('HMGET', fcodeKey, 'userId', 'expiresAt', 'status')
    local boundTo, expiresAt, status = code[1] or '', tonumber(code[2] or '0') or 0, code[3]
    if not status or status == 'void' or (boundTo ~= '' and boundTo ~= userId) or (expiresAt > 0 and now >= expiresAt) then return 'FCODE_INVALID' end
  elseif reservationRequired and redis.call('HEXISTS', reservationsKey, userId) == 0 then
    return 'NOT_ELIGIBLE'
  end
  return nil
end
