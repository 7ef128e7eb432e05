"""The benchmark's Flask app: the same two routes and bytes as bench/hello.

gunicorn -w 4 -b 127.0.0.1:8000 --chdir bench/flaskapp app:app
uwsgi --plugin python3 --http-socket 127.0.0.1:8000 --master --processes 4 \
      --chdir bench/flaskapp --wsgi-file app.py --callable app --disable-logging
"""
from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/hello")
def hello():
    return "Hello, world!\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


@app.route("/json")
def json_route():
    return jsonify(message="Hello, world!", app="bench")
