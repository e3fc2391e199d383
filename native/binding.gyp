{
  "targets": [
    {
      "target_name": "fluxdns_udp",
      "sources": ["udp_batch.c", "nsec3.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    },
    {
      "target_name": "fluxdns_nft",
      "sources": ["nft_lib.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "libraries": ["-ldl"]
    },
    {
      "target_name": "fluxdns_dnssec",
      "sources": ["dnssec_sign.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "defines": ["NAPI_VERSION=8"],
      "variables": {
        "have_sodium": "<!(pkg-config --exists libsodium 2>/dev/null && echo 1 || echo 0)"
      },
      "conditions": [
        ["have_sodium==1", {
          "defines": ["FLUXDNS_SODIUM"],
          "cflags": ["<!@(pkg-config --cflags libsodium)"],
          "libraries": ["<!@(pkg-config --libs libsodium)"]
        }]
      ]
    },
    {
      "target_name": "fluxdns_xfr",
      "sources": ["axfr_body.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
