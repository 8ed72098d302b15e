/* A GIMP 2.10 plug-in that applies an ONNX image-to-image model (a denoiser,
 * a colour or sharpening filter: one float32 [1, C, H, W] input, an output of
 * the same size) to the active layer or to the selection, through clcnn's
 * public API: the tiler runs the model in tiles of a fixed size, with
 * GIMP's progress bar fed by its progress callback.
 *
 * Filters > Enhance > ONNX Model (clcnn)...; from scripts and batch mode:
 *
 *   (plug-in-clcnn-filter RUN-NONINTERACTIVE image drawable
 *                         "model.onnx" "best" 0 -1)
 *
 * with the model's path, a device ("best", "cpu", "opencl:N" or an id from
 * clcnn_devices()), the tile side (0: the model's, else 512) and the overlap
 * of tiles (-1: the tiler's default). RGB and gray layers with or without
 * alpha, of any precision: pixels are read and written as float (GEGL
 * converts), in GIMP's perceptual (gamma-encoded) space, which is what a
 * model trained on PNG or JPEG files sees. Alpha is kept as it was. The
 * whole change is one undo step; the selection applies through GIMP's
 * shadow buffer (feathered edges blend). Errors come back as the
 * procedure's status and message (and a message box when interactive). */
#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <string.h>

#include <clcnn.h>

#define PROC "plug-in-clcnn-filter"
#define BINARY "clcnn-gimp"
#define CONTEXT_PX 32 /* pixels around the selection that the model also sees */

/* The last values (kept by GIMP between calls with gimp_set_data()). */
typedef struct filter_vals {
  char model[2048];
  char device[512];
  gint tile;
  gint overlap;
} filter_vals;

static filter_vals vals = {"", "best", 0, -1};

static void query(void);
static void run(const gchar *name, gint nparams, const GimpParam *param, gint *nreturn_vals,
                GimpParam **return_vals);

const GimpPlugInInfo PLUG_IN_INFO = {NULL, NULL, query, run};

MAIN()

static void query(void) {
  static const GimpParamDef args[] = {
      {GIMP_PDB_INT32, "run-mode", "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1) }"},
      {GIMP_PDB_IMAGE, "image", "Input image"},
      {GIMP_PDB_DRAWABLE, "drawable", "Input drawable (RGB or gray, with or without alpha)"},
      {GIMP_PDB_STRING, "model",
       "Path of an ONNX model: one float32 [1, C, H, W] input, an output of the same size"},
      {GIMP_PDB_STRING, "device",
       "\"best\", \"cpu\", \"gpu\", \"opencl:N\" or a device id of clcnn_devices()"},
      {GIMP_PDB_INT32, "tile-size", "Tile side in pixels (0: the model's, else 512)"},
      {GIMP_PDB_INT32, "overlap", "Pixels shared by neighbouring tiles (-1: default)"},
  };
  gimp_install_procedure(
      PROC, "Apply an ONNX image-to-image model (clcnn)",
      "Runs a fully convolutional ONNX model (a denoiser, a filter) over the layer or the "
      "selection, in tiles, on an OpenCL device or on clcnn's CPU backend. The model must "
      "keep the image's size; alpha is kept.",
      "clcnn authors", "clcnn authors", "2026", "_ONNX Model (clcnn)...", "RGB*, GRAY*",
      GIMP_PLUGIN, G_N_ELEMENTS(args), 0, (GimpParamDef *)args, NULL);
  gimp_plugin_menu_register(PROC, "<Image>/Filters/Enhance");
}

/* ------------------------------------------------------------------ dialog */

typedef struct dialog_state {
  GtkWidget *model, *device, *tile, *overlap;
  GPtrArray *ids; /* device id per combo entry */
} dialog_state;

static gboolean run_dialog(void) {
  gimp_ui_init(BINARY, FALSE);
  GtkWidget *dlg = gimp_dialog_new("ONNX Model (clcnn)", BINARY, NULL, 0, gimp_standard_help_func,
                                   PROC, "_Cancel", GTK_RESPONSE_CANCEL, "_OK", GTK_RESPONSE_OK,
                                   NULL);
  gtk_dialog_set_alternative_button_order(GTK_DIALOG(dlg), GTK_RESPONSE_OK, GTK_RESPONSE_CANCEL,
                                           -1);
  gimp_window_set_transient(GTK_WINDOW(dlg));
  dialog_state d = {0};
  d.ids = g_ptr_array_new_with_free_func(g_free);

  GtkWidget *table = gtk_table_new(4, 2, FALSE);
  gtk_table_set_col_spacings(GTK_TABLE(table), 6);
  gtk_table_set_row_spacings(GTK_TABLE(table), 6);
  gtk_container_set_border_width(GTK_CONTAINER(table), 12);
  gtk_box_pack_start(GTK_BOX(gtk_dialog_get_content_area(GTK_DIALOG(dlg))), table, TRUE, TRUE,
                     0);

  d.model = gtk_file_chooser_button_new("Select an ONNX model", GTK_FILE_CHOOSER_ACTION_OPEN);
  GtkFileFilter *filter = gtk_file_filter_new();
  gtk_file_filter_set_name(filter, "ONNX models (*.onnx)");
  gtk_file_filter_add_pattern(filter, "*.onnx");
  gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d.model), filter);
  if (vals.model[0]) gtk_file_chooser_set_filename(GTK_FILE_CHOOSER(d.model), vals.model);
  gimp_table_attach_aligned(GTK_TABLE(table), 0, 0, "_Model:", 0.0, 0.5, d.model, 1, FALSE);

  /* Devices from the library: "best" first, then every usable device. */
  d.device = gtk_combo_box_text_new();
  gtk_combo_box_text_append_text(GTK_COMBO_BOX_TEXT(d.device), "Best available");
  g_ptr_array_add(d.ids, g_strdup("best"));
  const clcnn_device_info *devs = NULL;
  int ndev = 0, active = 0;
  clcnn_devices(&devs, &ndev); /* on error the CPU backend is still listed */
  for (int i = 0; i < ndev; i++) {
    if (!devs[i].available) continue;
    gchar *label = devs[i].type == CLCNN_DEVICE_TYPE_CPU_BACKEND
                       ? g_strdup("CPU (clcnn's own backend)")
                       : g_strdup_printf("%s (%s)%s", devs[i].name, devs[i].platform,
                                         devs[i].best ? " *" : "");
    gtk_combo_box_text_append_text(GTK_COMBO_BOX_TEXT(d.device), label);
    g_free(label);
    g_ptr_array_add(d.ids, g_strdup(devs[i].id));
    if (strcmp(vals.device, devs[i].id) == 0) active = (int)d.ids->len - 1;
  }
  gtk_combo_box_set_active(GTK_COMBO_BOX(d.device), active);
  gimp_table_attach_aligned(GTK_TABLE(table), 0, 1, "_Device:", 0.0, 0.5, d.device, 1, FALSE);

  d.tile = gtk_spin_button_new_with_range(0, 4096, 32);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(d.tile), vals.tile);
  gtk_widget_set_tooltip_text(d.tile, "0: the model's own size, else 512");
  gimp_table_attach_aligned(GTK_TABLE(table), 0, 2, "_Tile size:", 0.0, 0.5, d.tile, 1, TRUE);

  d.overlap = gtk_spin_button_new_with_range(-1, 2048, 4);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(d.overlap), vals.overlap);
  gtk_widget_set_tooltip_text(d.overlap, "-1: the default (32, less for small tiles)");
  gimp_table_attach_aligned(GTK_TABLE(table), 0, 3, "O_verlap:", 0.0, 0.5, d.overlap, 1, TRUE);

  gtk_widget_show_all(dlg);
  gboolean ok = gimp_dialog_run(GIMP_DIALOG(dlg)) == GTK_RESPONSE_OK;
  if (ok) {
    gchar *file = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(d.model));
    g_strlcpy(vals.model, file ? file : "", sizeof vals.model);
    g_free(file);
    int k = gtk_combo_box_get_active(GTK_COMBO_BOX(d.device));
    g_strlcpy(vals.device, k >= 0 ? (const char *)g_ptr_array_index(d.ids, k) : "best",
              sizeof vals.device);
    vals.tile = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(d.tile));
    vals.overlap = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(d.overlap));
  }
  gtk_widget_destroy(dlg);
  g_ptr_array_free(d.ids, TRUE);
  return ok;
}

/* ------------------------------------------------------------------ filter */

/* The tiler's progress callback: GIMP's progress bar. Returns 0 (GIMP ends a
 * plug-in whose progress is cancelled). */
static int on_progress(void *user, int done, int total) {
  (void)user;
  gimp_progress_update(total > 0 ? (gdouble)done / total : 0.0);
  return 0;
}

/* Sets *msg (a new string) and returns FALSE. */
static gboolean fail(gchar **msg, const char *what, clcnn_status st) {
  *msg = g_strdup_printf("clcnn: %s: %s (%s)", what, clcnn_last_error(), clcnn_status_str(st));
  return FALSE;
}

static gboolean apply(gint32 image, gint32 drawable, gchar **msg) {
  if (!vals.model[0]) {
    *msg = g_strdup("clcnn: no model given");
    return FALSE;
  }
  if (!gimp_drawable_is_rgb(drawable) && !gimp_drawable_is_gray(drawable)) {
    *msg = g_strdup("clcnn: the layer must be RGB or gray (convert an indexed image first)");
    return FALSE;
  }
  gint x, y, w, h;
  if (!gimp_drawable_mask_intersect(drawable, &x, &y, &w, &h)) return TRUE; /* nothing selected */
  gboolean alpha = gimp_drawable_has_alpha(drawable), gray = gimp_drawable_is_gray(drawable);
  const Babl *fmt = babl_format(gray ? (alpha ? "Y'A float" : "Y' float")
                                     : (alpha ? "R'G'B'A float" : "R'G'B' float"));
  int ch = babl_format_get_n_components(fmt);

  /* The model sees some pixels around a selection too (clamped to the layer). */
  int dw = gimp_drawable_width(drawable), dh = gimp_drawable_height(drawable);
  int rx = MAX(0, x - CONTEXT_PX), ry = MAX(0, y - CONTEXT_PX);
  int rw = MIN(dw, x + w + CONTEXT_PX) - rx, rh = MIN(dh, y + h + CONTEXT_PX) - ry;

  clcnn_context *ctx = NULL;
  clcnn_model *model = NULL;
  clcnn_tiler *tiler = NULL;
  float *in = NULL, *out = NULL;
  gboolean ok = FALSE;
  clcnn_status st;
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = vals.device[0] ? vals.device : "best";
  clcnn_tile_options to;
  clcnn_tile_options_default(&to);
  to.tile_width = to.tile_height = vals.tile;
  to.overlap = vals.overlap;
  to.progress = on_progress;

  gchar *base = g_path_get_basename(vals.model);
  gimp_progress_init_printf("clcnn: %s on %s", base, so.device);
  g_free(base);
  clcnn_tensor shape;
  clcnn_io_info info;
  if ((st = clcnn_context_create(NULL, &ctx))) {
    fail(msg, "context", st);
    goto out;
  }
  if ((st = clcnn_model_load_file(ctx, vals.model, &model))) {
    fail(msg, vals.model, st);
    goto out;
  }
  if ((st = clcnn_tiler_create(model, &so, &to, &tiler)) ||
      (st = clcnn_model_input_info(model, 0, &info)) ||
      /* The tiles' channels as clcnn_tiler_run_image() picks them. */
      (st = clcnn_tiler_output_shape(tiler, info.dims[1] > 0 ? 0 : gray ? 1 : 3, rh, rw,
                                     &shape))) {
    fail(msg, "the model cannot be run on this layer", st);
    goto out;
  }
  if (shape.dims[2] != rh || shape.dims[3] != rw) {
    *msg = g_strdup_printf("clcnn: the model changes the image's size (%dx%d to %lldx%lld): this "
                           "filter applies models that keep it",
                           rw, rh, (long long)shape.dims[3], (long long)shape.dims[2]);
    goto out;
  }
  size_t n = (size_t)rw * (size_t)rh * (size_t)ch;
  in = g_try_new(float, n);
  out = g_try_new(float, n);
  if (!in || !out) {
    *msg = g_strdup_printf("clcnn: out of memory for a %dx%d region", rw, rh);
    goto out;
  }
  GeglBuffer *src = gimp_drawable_get_buffer(drawable);
  gegl_buffer_get(src, GEGL_RECTANGLE(rx, ry, rw, rh), 1.0, fmt, in, GEGL_AUTO_ROWSTRIDE,
                  GEGL_ABYSS_NONE);
  g_object_unref(src);

  clcnn_image ii = {in, rw, rh, ch, CLCNN_PIXEL_FLOAT32, 0};
  clcnn_image oi = {out, rw, rh, ch, CLCNN_PIXEL_FLOAT32, 0};
  if ((st = clcnn_tiler_run_image(tiler, &ii, NULL, &oi))) {
    fail(msg, "the run failed", st);
    goto out;
  }
  if (alpha) /* the filter changes colour, never transparency */
    for (size_t i = (size_t)ch - 1; i < n; i += (size_t)ch) out[i] = in[i];

  gimp_image_undo_group_start(image);
  GeglBuffer *dst = gimp_drawable_get_shadow_buffer(drawable);
  const float *first = out + ((size_t)(y - ry) * (size_t)rw + (size_t)(x - rx)) * (size_t)ch;
  gegl_buffer_set(dst, GEGL_RECTANGLE(x, y, w, h), 0, fmt, first,
                  (gint)((size_t)rw * (size_t)ch * sizeof(float)));
  gegl_buffer_flush(dst);
  g_object_unref(dst);
  gimp_drawable_merge_shadow(drawable, TRUE); /* applies the selection's mask */
  gimp_drawable_update(drawable, x, y, w, h);
  gimp_image_undo_group_end(image);
  gimp_progress_update(1.0);
  ok = TRUE;
out:
  g_free(in);
  g_free(out);
  clcnn_tiler_free(tiler);
  clcnn_model_free(model);
  clcnn_context_free(ctx);
  return ok;
}

static void run(const gchar *name, gint nparams, const GimpParam *param, gint *nreturn_vals,
                GimpParam **return_vals) {
  static GimpParam values[2];
  static gchar *error_text;
  (void)name;
  *nreturn_vals = 1;
  *return_vals = values;
  values[0].type = GIMP_PDB_STATUS;
  values[0].data.d_status = GIMP_PDB_SUCCESS;
  g_free(error_text);
  error_text = NULL;

  GimpRunMode mode = nparams > 0 ? (GimpRunMode)param[0].data.d_int32 : GIMP_RUN_NONINTERACTIVE;
  if (nparams < 3) {
    values[0].data.d_status = GIMP_PDB_CALLING_ERROR;
    return;
  }
  gint32 image = param[1].data.d_image, drawable = param[2].data.d_drawable;
  gegl_init(NULL, NULL);

  switch (mode) {
    case GIMP_RUN_INTERACTIVE:
      gimp_get_data(PROC, &vals);
      if (!run_dialog()) {
        values[0].data.d_status = GIMP_PDB_CANCEL;
        return;
      }
      break;
    case GIMP_RUN_NONINTERACTIVE:
      if (nparams != 7 || !param[3].data.d_string) {
        values[0].data.d_status = GIMP_PDB_CALLING_ERROR;
        return;
      }
      g_strlcpy(vals.model, param[3].data.d_string, sizeof vals.model);
      g_strlcpy(vals.device, param[4].data.d_string ? param[4].data.d_string : "best",
                sizeof vals.device);
      vals.tile = param[5].data.d_int32;
      vals.overlap = param[6].data.d_int32;
      break;
    case GIMP_RUN_WITH_LAST_VALS:
      gimp_get_data(PROC, &vals);
      break;
  }

  if (!apply(image, drawable, &error_text)) {
    values[0].data.d_status = GIMP_PDB_EXECUTION_ERROR;
    values[1].type = GIMP_PDB_STRING;
    values[1].data.d_string = error_text;
    *nreturn_vals = 2;
    if (mode != GIMP_RUN_NONINTERACTIVE) gimp_message(error_text);
    return;
  }
  if (mode != GIMP_RUN_NONINTERACTIVE) gimp_displays_flush();
  if (mode == GIMP_RUN_INTERACTIVE) gimp_set_data(PROC, &vals, sizeof vals);
}
