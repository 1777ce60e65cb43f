-- wrk script: POST the GraphQL request in $BODY to the URL wrk was given,
-- with `Authorization: $AUTH` when that is set.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("BODY")
local auth = os.getenv("AUTH")
if auth and auth ~= "" then
  wrk.headers["Authorization"] = auth
end
