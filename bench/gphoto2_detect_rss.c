// RSS of repeated libgphoto2 camera detection, the call camrelay's usb source makes at every
// poll_interval. Build and run:
//   cc -O2 bench/gphoto2_detect_rss.c -o /tmp/gphoto2_detect_rss $(pkg-config --cflags --libs libgphoto2)
//   /tmp/gphoto2_detect_rss 1000        # N detections; prints VmRSS every N/5
// The abilities and port lists are loaded once, so only gp_abilities_list_detect() repeats.
#include <gphoto2/gphoto2.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long vm_rss_kib(void)
{
    FILE* f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            sscanf(line + 6, "%ld", &kib);
    if (f)
        fclose(f);
    return kib;
}

int main(int argc, char** argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    int step = n >= 5 ? n / 5 : 1;
    GPContext* ctx = gp_context_new();
    CameraAbilitiesList* abilities = NULL;
    GPPortInfoList* ports = NULL;
    gp_abilities_list_new(&abilities);
    gp_abilities_list_load(abilities, ctx);
    gp_port_info_list_new(&ports);
    gp_port_info_list_load(ports);
    printf("before: VmRSS %ld kB\n", vm_rss_kib());
    for (int i = 1; i <= n; ++i)
    {
        CameraList* found = NULL;
        gp_list_new(&found);
        gp_abilities_list_detect(abilities, ports, found, ctx);
        gp_list_free(found);
        if (i % step == 0)
            printf("after %d detections: VmRSS %ld kB\n", i, vm_rss_kib());
    }
    gp_port_info_list_free(ports);
    gp_abilities_list_free(abilities);
    gp_context_unref(ctx);
    return 0;
}
