-- wrk script: POST the GraphQL request in $BODY to the URL wrk was given.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("BODY")
