#!/usr/bin/env bash
# Writes the fuzz target's seed corpus, corpus/spans/, from tests/fixtures/ (the signed
# fixtures, the seeds of ZEGO's docs, the bad bodies). Each input is four header bytes (see
# prepare in src/lib.rs), then the body: once with the fixture's content type, once sniffed;
# every other option at its default (re-signed with the fixture secret, now at the body's
# timestamp, a 300 s window, a 64 KiB limit).
set -euo pipefail
cd "$(dirname "$0")"
out=corpus/spans
mkdir -p "$out"
for f in ../tests/fixtures/{signed,seeds,bad}/*; do
  name=$(basename "$(dirname "$f")")-$(basename "$f")
  case "$f" in
    *.json) type='\001' ;; # application/json
    *.form) type='\002' ;; # application/x-www-form-urlencoded
    *) type='\000' ;;
  esac
  { printf "$type"'\000\000\000'; cat "$f"; } > "$out/$name"
  { printf '\000\000\000\000'; cat "$f"; } > "$out/sniffed-$name"
done
# The documented events no fixture has, every field given (the signature is re-signed).
envelope='"appid":1,"timestamp":"1700000000","nonce":"350176","signature":"0000000000000000000000000000000000000000"'
declare -A events=(
  [room_create]='"room_id":"room1","room_session_id":"858012925204410401","room_create_time":1700000000123,"id_name":"u1"'
  [room_login]='"room_id":"room1","room_name":"r","room_seq":"858012925204410401","user_account":"u1","user_nickname":"\u5f20","session_id":"7","login_time":"1700000000123","user_role":1'
  [room_logout]='"room_id":"room1","room_name":"r","room_seq":"1","user_account":"u1","user_nickname":"n","session_id":18446744073709551615,"logout_time":1700000000123,"reason":"0"'
  [mix_start]='"seq":"01","task_id":"1:t","channel_id":"c","publish_id":"p","mix_url":"rtmp://m","mix_stream_alias":"a","rtmp_urls":["rtmp://a","rtmp://b"],"hls_urls":"http://h","hdl_urls":[],"stream_alias":"s"'
)
for event in "${!events[@]}"; do
  { printf '\001\000\000\000'; printf '{"event":"%s",%s,%s}' "$event" "$envelope" "${events[$event]}"; } > "$out/made-$event.json"
done
# Every kind of extra value, a BOM, non-ASCII text and a stream_attr without escapes: shapes
# the mutations rarely make in a body that still gets through.
{ printf '\001\000\000\000\357\273\277 '
  printf '{"event":"stream_create",%s,"room_id":"房间😀","room_session_id":"007","stream_id":"s","stream_attr":"cid 0","stream_seq":1,"create_time_ms":1,"t":true,"f":false,"n":null,"a":["x","\u00e9"],"e":"\u00e9","i":-7,"b":18446744073709551616,"d":1.5e3,"z":"","0":"index"}\r\n' "$envelope"
} > "$out/made-shapes.json"
# Around the most words the span path writes (1024, src/spans.rs): a list of 310 or 320
# items, 185 or 190 extras, for a stream_create (27 fields: 86 words before them).
create='"event":"stream_create",'"$envelope"',"room_id":"r","room_session_id":"1","stream_id":"s","stream_seq":1,"create_time_ms":1'
for n in 310 320; do
  items=$(printf '"u",%.0s' $(seq "$n")); items=${items%,}
  { printf '\001\000\000\000'; printf '{%s,"rtmp_url":[%s]}' "$create" "$items"; } > "$out/made-items-$n.json"
done
for n in 185 190; do
  extras=$(for i in $(seq "$n"); do printf '"x%d":%d,' "$i" "$i"; done); extras=${extras%,}
  { printf '\001\000\000\000'; printf '{%s,%s}' "$create" "$extras"; } > "$out/made-extras-$n.json"
done
echo "$(ls "$out" | wc -l) inputs in fuzz/$out"
