# included from dr-http.conf, inside the virtual_server block
real_server 10.0.0.12 80 {
    weight 1
    inhibit_on_failure
    HTTP_GET {
        url {
            path "/check me"
            status_code 200-299 301
        }
        retry 2
        connect_timeout 1.5
    }
}
