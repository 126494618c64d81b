"""`devicegraph simulate`: a refurbisher's day, played against a running server.

The demo people (``devicegraph seed-demo``) sign in and act through the GraphQL API at a set
number of business actions a second: intake of lots and devices, grading, listing, buyers'
offers and the sales team's counters, purchases, confirmation, shipping, delivery and now and
then a client's settlement. For demos (watch the web app move) and for load (bench/).
"""
