#!/usr/bin/env bash
# A new user's first session with expense-api, start to finish:
# register -> log in -> category -> budget -> expenses -> analytics -> an over-budget expense refused
# -> a second (shared) ledger -> a household ledger shared with an invited partner -> a receipt
# split across categories, with a payee and tags, and the lists filtered by them -> rules that
# categorize card payments, reordered, and run over the uncategorized ones -> exchange rates, by
# hand and from an ECB file -> an expense in another currency, its rate changed -> a budget that
# rolls January's surplus into February, and February's budgets copied to March -> two-factor
# sign-in turned on, used to log in, and turned off with a recovery code; the security events.
#
#   bin/serve &                      # in another terminal
#   clients/curl/walkthrough.sh      # BASE_URL=http://host:port to point elsewhere
source "$(dirname "$0")/lib.sh"

EMAIL="walkthrough-$(date +%s)-$RANDOM@example.com"
MONTH="$(date -u +%m | sed 's/^0//')"
YEAR="$(date -u +%Y)"
TODAY="$(date -u +%Y-%m-%d)"

echo "1. Register an account (currency EUR, time zone Europe/Berlin)"
api 201 POST /api/auth/register \
  "{\"name\": \"Walkthrough\", \"email\": \"$EMAIL\", \"password\": \"correct horse battery\",
    \"currency\": \"EUR\", \"timezone\": \"Europe/Berlin\"}"
show

echo "2. Log in: an access token (15 minutes) and a refresh token"
api 200 POST /api/auth/login "{\"email\": \"$EMAIL\", \"password\": \"correct horse battery\"}"
TOKEN="$(field '["accessToken"]')"
echo "    token type $(field '["tokenType"]'), expires in $(field '["expiresIn"]') s"

echo "3. Create a category"
api 201 POST /api/categories '{"name": "Groceries"}'
CATEGORY="$(field '["id"]')"
show

echo "4. A hard budget of 300.00 EUR for groceries this month, alerting at 80%"
api 201 POST /api/budgets \
  "{\"categoryId\": $CATEGORY, \"amount\": \"300.00\", \"month\": $MONTH, \"year\": $YEAR,
    \"mode\": \"hard\", \"alertThreshold\": 80}"
show

echo "5. Record expenses (amounts as strings or numbers; the answer is always exact)"
api 201 POST /api/transactions \
  "{\"amount\": \"120.50\", \"type\": \"EXPENSE\", \"categoryId\": $CATEGORY,
    \"description\": \"Weekly shop\", \"date\": \"$TODAY\"}"
echo "    amount $(field '["amount"]'), alerts: $(field '["alerts"]')"
api 201 POST /api/transactions \
  "{\"amount\": 130, \"type\": \"EXPENSE\", \"categoryId\": $CATEGORY,
    \"description\": \"Big shop\", \"date\": \"$TODAY\"}"
echo "    250.50 of 300.00 spent: the 80% alert fires -> $(field '["alerts"][0]["kind"]')"

echo "6. Income counts towards savings, never against a budget"
api 201 POST /api/transactions \
  "{\"amount\": \"2500.00\", \"type\": \"INCOME\", \"categoryId\": $CATEGORY, \"date\": \"$TODAY\"}"

echo "7. Analytics for this month"
api 200 GET "/api/summary?month=$MONTH&year=$YEAR"
show
api 200 GET "/api/category-breakdown?month=$MONTH&year=$YEAR"
show
api 200 GET "/api/budget-usage?month=$MONTH&year=$YEAR"
echo "    spent $(field '["items"][0]["spent"]') of $(field '["items"][0]["budget"]'), remaining $(field '["items"][0]["remaining"]')"
api 200 GET "/api/trends?months=3"
show

echo "8. An expense that would exceed the hard budget is refused, and nothing is written"
api 409 POST /api/transactions \
  "{\"amount\": \"60.00\", \"type\": \"EXPENSE\", \"categoryId\": $CATEGORY, \"date\": \"$TODAY\"}"
show
echo "    code $(field '["code"]'): would exceed by $(field '["budget"]["wouldExceedBy"]')"

echo "9. The alerts that fired"
api 200 GET /api/notifications
echo "    $(field '["items"].__len__()') alert(s), newest: $(field '["items"][0]["kind"]')"

echo "10. A second ledger, for shared books: you own it; then rename it, list its members, delete it"
api 201 POST /api/ledgers '{"name": "Holiday", "currency": "EUR"}'
LEDGER="$(field '["id"]')"
show
api 200 PATCH "/api/ledgers/$LEDGER" '{"name": "Summer holiday"}'
# Every resource route also works inside a given ledger: money follows its currency (EUR here).
api 201 POST "/api/ledgers/$LEDGER/categories" '{"name": "Travel"}'
TRAVEL="$(field '["id"]')"
api 201 POST "/api/ledgers/$LEDGER/transactions" \
  "{\"amount\": \"420.00\", \"type\": \"EXPENSE\", \"categoryId\": $TRAVEL, \"date\": \"$TODAY\"}"
echo "    recorded $(field '["amount"]') by $(field '["createdBy"]["name"]')"
api 200 GET "/api/ledgers/$LEDGER/summary"
echo "    this ledger spent $(field '["totalExpense"]') $(field '["currency"]') this month"
api 200 GET "/api/ledgers/$LEDGER/members"
echo "    $(field '["items"].__len__()') member(s): $(field '["items"][0]["name"]') ($(field '["items"][0]["role"]'))"
api 200 GET /api/ledgers
echo "    $(field '["items"].__len__()') ledgers, your default first: $(field '["items"][0]["name"]')"
api 204 DELETE "/api/ledgers/$LEDGER"

echo "11. A household ledger with a hard budget of 100.00 EUR for food this month"
api 201 POST /api/ledgers '{"name": "Household", "currency": "EUR"}'
HOUSEHOLD="$(field '["id"]')"
api 201 POST "/api/ledgers/$HOUSEHOLD/categories" '{"name": "Food"}'
FOOD="$(field '["id"]')"
api 201 POST "/api/ledgers/$HOUSEHOLD/budgets" \
  "{\"categoryId\": $FOOD, \"amount\": \"100.00\", \"month\": $MONTH, \"year\": $YEAR, \"mode\": \"hard\"}"

echo "12. Your partner has an account of their own"
PARTNER_EMAIL="partner-$(date +%s)-$RANDOM@example.com"
OWNER_TOKEN="$TOKEN"
TOKEN=""
api 201 POST /api/auth/register \
  "{\"name\": \"Partner\", \"email\": \"$PARTNER_EMAIL\", \"password\": \"correct horse battery\"}"
api 200 POST /api/auth/login "{\"email\": \"$PARTNER_EMAIL\", \"password\": \"correct horse battery\"}"
PARTNER_TOKEN="$(field '["accessToken"]')"

echo "13. You invite them as an editor (pending for 7 days)"
TOKEN="$OWNER_TOKEN"
api 201 POST "/api/ledgers/$HOUSEHOLD/invitations" "{\"email\": \"$PARTNER_EMAIL\", \"role\": \"editor\"}"
INVITATION="$(field '["id"]')"
show
api 200 GET "/api/ledgers/$HOUSEHOLD/invitations"
echo "    $(field '["items"].__len__()') invitation(s), $(field '["items"][0]["status"]')"

echo "14. Your partner sees the invitation and accepts it"
TOKEN="$PARTNER_TOKEN"
api 200 GET /api/invitations
echo "    to $(field '["items"][0]["ledgerName"]') from $(field '["items"][0]["invitedBy"]["name"]')"
api 200 POST "/api/invitations/$INVITATION/accept"
echo "    now $(field '["role"]') of $(field '["name"]')"

echo "15. Your partner spends 80.00 of the shared 100.00; their next 30.00 is refused"
api 201 POST "/api/ledgers/$HOUSEHOLD/transactions" \
  "{\"amount\": \"80.00\", \"type\": \"EXPENSE\", \"categoryId\": $FOOD, \"date\": \"$TODAY\"}"
echo "    recorded $(field '["amount"]') by $(field '["createdBy"]["name"]')"
api 409 POST "/api/ledgers/$HOUSEHOLD/transactions" \
  "{\"amount\": \"30.00\", \"type\": \"EXPENSE\", \"categoryId\": $FOOD, \"date\": \"$TODAY\"}"
echo "    code $(field '["code"]'): would exceed by $(field '["budget"]["wouldExceedBy"]')"

echo "16. You list the members and delete the household ledger"
TOKEN="$OWNER_TOKEN"
api 200 GET "/api/ledgers/$HOUSEHOLD/members"
echo "    $(field '["items"][0]["name"]') ($(field '["items"][0]["role"]')), $(field '["items"][1]["name"]') ($(field '["items"][1]["role"]'))"
api 204 DELETE "/api/ledgers/$HOUSEHOLD"

echo "17. One receipt, split: a groceries line and a household line, with a payee and tags"
api 201 POST /api/categories '{"name": "Household"}'
HOUSEHOLD_CATEGORY="$(field '["id"]')"
api 201 POST /api/transactions \
  "{\"amount\": \"35.00\", \"type\": \"EXPENSE\", \"date\": \"$TODAY\", \"description\": \"Saturday receipt\",
    \"payee\": \"Corner Shop\", \"tags\": [\"weekly\", \"Cash\"],
    \"splits\": [{\"categoryId\": $CATEGORY, \"amount\": \"20.00\"},
               {\"categoryId\": $HOUSEHOLD_CATEGORY, \"amount\": \"15.00\", \"memo\": \"Soap\"}]}"
echo "    no category of its own (categoryId null), lines: $(field '["splits"][0]["category"]') $(field '["splits"][0]["amount"]') + $(field '["splits"][1]["category"]') $(field '["splits"][1]["amount"]'), tags $(field '["tags"]')"
api 422 POST /api/transactions \
  "{\"amount\": \"35.00\", \"type\": \"EXPENSE\", \"date\": \"$TODAY\",
    \"splits\": [{\"categoryId\": $CATEGORY, \"amount\": \"20.00\"},
               {\"categoryId\": $HOUSEHOLD_CATEGORY, \"amount\": \"10.00\"}]}"
echo "    lines that do not add up: code $(field '["code"]')"

echo "18. Payees (the payee field's suggestions) and tags, with counts; the list filtered by them"
api 200 GET /api/ledgers
DEFAULT_LEDGER="$(field '["items"][0]["id"]')"
api 200 GET "/api/ledgers/$DEFAULT_LEDGER/payees?q=corner"
echo "    $(field '["items"][0]["name"]'): $(field '["items"][0]["count"]') transaction(s), last on $(field '["items"][0]["lastUsedOn"]')"
api 200 GET "/api/ledgers/$DEFAULT_LEDGER/tags"
show
# categoryId matches a line too; every tag given must be on the transaction.
api 200 GET "/api/transactions?month=$MONTH&year=$YEAR&categoryId=$HOUSEHOLD_CATEGORY&payee=corner%20shop&tag=weekly&tag=cash"
echo "    $(field '["items"].__len__()') transaction(s): $(field '["items"][0]["description"]')"

echo "19. Rules: what category, payee and tags a bank line gets (the first matching rule wins)"
api 201 POST /api/categories '{"name": "Uncategorized"}'
UNCATEGORIZED="$(field '["id"]')"
for amount in 12.00 25.00; do
  api 201 POST /api/transactions \
    "{\"amount\": \"$amount\", \"type\": \"EXPENSE\", \"categoryId\": $UNCATEGORIZED,
      \"description\": \"CARD 4411 BAKERY MUELLER\", \"date\": \"$TODAY\"}"
done
api 201 POST "/api/ledgers/$DEFAULT_LEDGER/rules" \
  "{\"match\": {\"description\": {\"regex\": \"^card [0-9]+ bakery\"}, \"type\": \"EXPENSE\"},
    \"set\": {\"categoryId\": $CATEGORY, \"payee\": \"Bakery Mueller\", \"tags\": [\"bread\"]}}"
BAKERY_RULE="$(field '["id"]')"
api 201 POST "/api/ledgers/$DEFAULT_LEDGER/rules" \
  '{"match": {"amountMin": "1000"}, "set": {"tags": ["large"]}}'
LARGE_RULE="$(field '["id"]')"
echo "    rule $LARGE_RULE at position $(field '["position"]'); moved first:"
api 200 PATCH "/api/ledgers/$DEFAULT_LEDGER/rules/$LARGE_RULE" '{"position": 1}'
api 200 GET "/api/ledgers/$DEFAULT_LEDGER/rules"
echo "    tried in order: rule $(field '["items"][0]["id"]'), then rule $(field '["items"][1]["id"]')"
# A pattern RE2 cannot compile is refused on its field (patterns can never hang the service).
api 422 POST "/api/ledgers/$DEFAULT_LEDGER/rules" \
  '{"match": {"payee": {"regex": "(a+"}}, "set": {"payee": "x"}}'
echo "    $(field '["errors"]')"
# Run the bakery rule over this month's uncategorized transactions: the first fits the groceries
# budget; the second would take it past its hard 300.00, so it is refused and left as it was.
api 200 POST "/api/ledgers/$DEFAULT_LEDGER/rules/$BAKERY_RULE/apply?month=$MONTH&year=$YEAR"
echo "    changed $(field '["changed"]'), refused $(field '["refused"]')"

echo "20. Exchange rates: the ledger's own table (EUR per unit here), by hand or from an ECB file"
api 200 PUT "/api/ledgers/$DEFAULT_LEDGER/rates/USD" \
  '{"items": [{"date": "2026-03-02", "rate": "0.9246"}, {"date": "2026-03-03", "rate": 0.925}]}'
show
# Never the ledger's own currency; at most 12 significant digits, each item's error named.
api 422 PUT "/api/ledgers/$DEFAULT_LEDGER/rates/EUR" '{"items": [{"date": "2026-03-02", "rate": "1"}]}'
echo "    $(field '["errors"]')"
# The ECB's eurofxref-hist.csv layout (units per 1 EUR): an EUR ledger gets each value inverted,
# exact to 12 significant digits, half up. Days in any order; N/A is no rate.
RATES_FILE="$(mktemp)"
printf 'Date,USD,JPY,GBP,\r\n2026-03-04,1.0842,162.47,0.8451,\r\n2026-03-03,1.08,N/A,0.8433,\r\n' \
  > "$RATES_FILE"
upload 200 "/api/ledgers/$DEFAULT_LEDGER/rates/import" "$RATES_FILE"
rm -f "$RATES_FILE"
show
api 200 GET "/api/ledgers/$DEFAULT_LEDGER/rates?currency=USD"
echo "    EUR per USD on 2026-03-04: $(field '["items"][-1]["rate"]')"

echo "21. An expense in another currency: amount in dollars, rate in euros per dollar"
api 201 POST /api/categories '{"name": "Travel"}'
TRAVEL_CATEGORY="$(field '["id"]')"
# ledgerAmount = amount x rate, rounded half up once to the ledger's digits: 12.50 x 0.9215 =
# 11.51875 -> 11.52 EUR. Budgets, totals and reports count the ledger amount.
api 201 POST /api/transactions \
  "{\"amount\": \"12.50\", \"currency\": \"USD\", \"rate\": \"0.9215\", \"type\": \"EXPENSE\",
    \"categoryId\": $TRAVEL_CATEGORY, \"description\": \"Taxi in Boston\", \"date\": \"$TODAY\"}"
FOREIGN="$(field '["id"]')"
echo "    $(field '["amount"]') $(field '["currency"]') at $(field '["rate"]') = $(field '["ledgerAmount"]') EUR"
# A PATCH keeps the recorded rate unless given one: 12.50 x 0.93 = 11.625 -> 11.63 (half up).
api 200 PATCH "/api/transactions/$FOREIGN" '{"rate": "0.93"}'
echo "    new rate $(field '["rate"]'): $(field '["ledgerAmount"]') EUR"
# Without a rate, the ledger's rate of the date (step 20's 2026-03-03 USD rate, from the file).
api 201 POST /api/transactions \
  "{\"amount\": \"20.00\", \"currency\": \"USD\", \"type\": \"EXPENSE\",
    \"categoryId\": $TRAVEL_CATEGORY, \"date\": \"2026-03-03\"}"
echo "    at the ledger's rate $(field '["rate"]'): $(field '["ledgerAmount"]') EUR"
# A currency the ledger has no rate of, and no rate given: 422 rate_unknown, nothing written.
api 422 POST /api/transactions \
  "{\"amount\": \"100\", \"currency\": \"NOK\", \"type\": \"EXPENSE\",
    \"categoryId\": $TRAVEL_CATEGORY, \"date\": \"$TODAY\"}"
echo "    code $(field '["code"]'): $(field '["errors"]["rate"][0]')"

echo "22. Budget rollover: what January leaves unspent is carried into February"
api 201 POST /api/categories '{"name": "Outings"}'
OUTINGS="$(field '["id"]')"
api 201 POST "/api/ledgers/$DEFAULT_LEDGER/budgets" \
  "{\"categoryId\": $OUTINGS, \"amount\": \"100.00\", \"month\": 1, \"year\": 2026}"
# February carries January's surplus (its own `rollover` decides what it takes).
api 201 POST "/api/ledgers/$DEFAULT_LEDGER/budgets" \
  "{\"categoryId\": $OUTINGS, \"amount\": \"100.00\", \"month\": 2, \"year\": 2026,
    \"rollover\": \"surplus\"}"
echo "    rollover $(field '["rollover"]')"
api 201 POST /api/transactions \
  "{\"amount\": \"30.00\", \"type\": \"EXPENSE\", \"categoryId\": $OUTINGS, \"date\": \"2026-01-17\"}"
api 200 GET "/api/ledgers/$DEFAULT_LEDGER/budget-usage?month=2&year=2026"
echo "    February: budget $(field '["items"][0]["budget"]') + carried $(field '["items"][0]["carried"]') = available $(field '["items"][0]["available"]')"
# A hard budget refuses above `available` (170.00), not above its amount: 150 fits.
api 201 POST /api/transactions \
  "{\"amount\": \"150.00\", \"type\": \"EXPENSE\", \"categoryId\": $OUTINGS, \"date\": \"2026-02-07\"}"
# January's spending now reaches February: 50 more there would leave February 120 available for
# its 150 spent. Refused, naming February's figures.
api 409 POST /api/transactions \
  "{\"amount\": \"50.00\", \"type\": \"EXPENSE\", \"categoryId\": $OUTINGS, \"date\": \"2026-01-20\"}"
echo "    code $(field '["code"]'): $(field '["budget"]["year"]')-$(field '["budget"]["month"]') would have $(field '["budget"]["available"]') available, over by $(field '["budget"]["wouldExceedBy"]')"

echo "23. Copy February's budgets to March: made where March has none, kept where it has one"
api 200 POST "/api/ledgers/$DEFAULT_LEDGER/budgets/copy" \
  '{"from": {"month": 2, "year": 2026}, "to": {"month": 3, "year": 2026}}'
echo "    created: $(field '["created"][0]["category"]') (rollover $(field '["created"][0]["rollover"]')), skipped: $(field '["skipped"]')"
api 200 POST "/api/ledgers/$DEFAULT_LEDGER/budgets/copy" \
  '{"from": {"month": 2, "year": 2026}, "to": {"month": 3, "year": 2026}}'
echo "    again: created $(field '["created"]'), skipped: $(field '["skipped"][0]["category"]')"

# An authenticator app's code (RFC 6238), `ahead` steps of 30 s from now: what a phone shows.
totp_code() {
  python3 - "$1" "${2:-0}" <<'PY'
import base64, hashlib, hmac, struct, sys, time
key = base64.b32decode(sys.argv[1])
step = int(time.time()) // 30 + int(sys.argv[2])
mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
offset = mac[-1] & 15
print(f"{(struct.unpack('>I', mac[offset:offset + 4])[0] & 0x7fffffff) % 1000000:06d}")
PY
}

echo "24. Two-factor sign-in: a secret for the authenticator app, turned on with its first code"
api 200 POST /api/auth/totp/setup
SECRET="$(field '["secret"]')"
echo "    $(field '["otpauthUri"]' | sed 's/secret=[A-Z2-7]*/secret=.../')"
api 200 POST /api/auth/totp/enable "{\"code\": \"$(totp_code "$SECRET")\"}"
RECOVERY="$(field '["recoveryCodes"][0]')"
echo "    10 recovery codes, shown once (the first: $RECOVERY)"
# Now the password alone is not enough; each code works once, so the next login takes the next
# step's code (one step of drift either way is accepted).
api 401 POST /api/auth/login "{\"email\": \"$EMAIL\", \"password\": \"correct horse battery\"}"
echo "    code $(field '["code"]')"
api 200 POST /api/auth/login \
  "{\"email\": \"$EMAIL\", \"password\": \"correct horse battery\", \"totp\": \"$(totp_code "$SECRET" 1)\"}"
TOKEN="$(field '["accessToken"]')"
api 204 POST /api/auth/totp/disable \
  "{\"password\": \"correct horse battery\", \"code\": \"$RECOVERY\"}"
api 200 GET "/api/auth/events?limit=5"
echo "    newest events: $(python3 -c 'import json, sys
print(", ".join(event["kind"] for event in json.load(open(sys.argv[1]))["items"]))' "$BODY_FILE")"

echo "Done: $EMAIL"
