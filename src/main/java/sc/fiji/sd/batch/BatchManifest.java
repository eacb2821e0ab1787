package sc.fiji.sd.batch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.pipeline.GenerationSetting;
import sc.fiji.sd.pipeline.GenerationSettings;
import sc.fiji.sd.control.ControlOptions;
import sc.fiji.sd.control.ControlPreprocessors;
import sc.fiji.sd.scheduler.SchedulerConfig;
import sc.fiji.sd.scheduler.Schedulers;

/**
 * Reads a batch manifest: CSV with a header row (RFC 4180: fields with commas, quotes or line breaks in double quotes,
 * {@code ""} for a quote) or JSON Lines (one object per line). Columns / keys are {@link #COLUMNS}; an empty field or a
 * missing column takes the text-to-image default. Every row is checked before anything runs, and all problems are
 * reported together, each naming its row, line and column.
 */
public final class BatchManifest {

	/** The columns, with their defaults (as for txt2img) and meaning; also the help text. */
	public static final Map<String, String> COLUMNS = columns();

	private static final int MAX_PROBLEMS = 20;

	private BatchManifest() {}

	private static Map<String, String> columns() {
		Map<String, String> c = new LinkedHashMap<>();
		c.put("prompt", "what to draw (required column; AUTOMATIC1111 syntax)");
		c.put("negative", "what to avoid (default: empty)");
		c.put("seed", "first seed; images use seed, seed+1, … (default: -1, random)");
		c.put("steps", "denoising steps, 1-1000 (default: 20)");
		c.put("guidance", "CFG scale, 0-100 (default: 7)");
		c.put("width", "pixels (default: the model's native size, or the image's)");
		c.put("height", "pixels (default: the model's native size, or the image's)");
		c.put("scheduler", "sampler: \"Euler a\", \"DPM++ 2M Karras\", … (default: the model's)");
		c.put("model", "model folder (default: --model, else the embedded model)");
		c.put("image", "input image for image to image / inpainting (default: none)");
		c.put("mask", "inpainting mask, white = repaint (default: none)");
		c.put("strength", "0-1, how much to change (default: 0.75; inpainting: 1)");
		c.put("feather", "inpainting: soft mask edge, 0-64 pixels (default: 4)");
		c.put("count", "images for this row, 1-100 (default: 1)");
		for (GenerationSetting<?> s : GenerationSettings.ALL)
			c.put(s.key(), s.help() + (s.defaultText().isEmpty() ? "" : " (default: " + s.defaultText() + ")"));
		c.put("control", "ControlNet control image: mask, edges, scribble (default: none)");
		c.put("control_type", String.join(", ", ControlPreprocessors.names()).replaceFirst(
			ControlPreprocessors.DEFAULT, ControlPreprocessors.DEFAULT + " (default)"));
		c.put("controlnet", "ControlNet folder (default: <model folder>-controlnet)");
		c.put("control_scale", "ControlNet weight, 0-10 (default: 1)");
		c.put("control_start", "fraction of the steps when it starts acting, 0-1 (default: 0)");
		c.put("control_end", "fraction of the steps when it stops acting, 0-1 (default: 1)");
		c.put("control_low", "canny: low threshold, 0-255 (default: 100)");
		c.put("control_high", "canny: high threshold, 0-255 (default: 200)");
		return c;
	}

	/** A manifest that cannot run as it is: the message lists the rows and columns to fix. */
	public static final class BadManifestException extends StableDiffusionException {
		public BadManifestException(String message) {
			super(message);
		}
	}

	/** All rows of {@code file} (.csv or .jsonl), checked; paths in the rows are resolved against its folder. */
	public static List<BatchRow> read(Path file) {
		String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
		boolean json = name.endsWith(".jsonl") || name.endsWith(".ndjson") || name.endsWith(".json");
		if (!json && !name.endsWith(".csv")) {
			throw new BadManifestException("The manifest " + file + " must be a .csv or a .jsonl file.");
		}
		String text;
		try {
			text = Files.readString(file, StandardCharsets.UTF_8);
		}
		catch (IOException e) {
			throw new BadManifestException("Cannot read the manifest " + file + ": " + e.getMessage() + ".");
		}
		if (!text.isEmpty() && text.charAt(0) == '\uFEFF') text = text.substring(1); // BOM from spreadsheet exports
		Path base = file.toAbsolutePath().getParent();
		List<String> problems = new ArrayList<>();
		List<RawRow> raw = json ? jsonRows(text, problems) : csvRows(text, problems);
		List<BatchRow> rows = new ArrayList<>();
		for (RawRow r : raw) {
			BatchRow row = r.toRow(rows.size(), base, problems);
			if (row != null) rows.add(row);
			else rows.add(null); // keeps the indices of the rows after a bad one
		}
		if (raw.isEmpty() && problems.isEmpty()) problems.add("it has no rows");
		if (!problems.isEmpty()) {
			StringBuilder sb = new StringBuilder("The manifest " + file + " has " + problems.size() + " problem"
				+ (problems.size() == 1 ? "" : "s") + "; nothing was generated. Fix:");
			problems.stream().limit(MAX_PROBLEMS).forEach(p -> sb.append("\n  ").append(p));
			if (problems.size() > MAX_PROBLEMS) sb.append("\n  … and ").append(problems.size() - MAX_PROBLEMS).append(" more");
			throw new BadManifestException(sb.toString());
		}
		return rows;
	}

	/** A row as text values per column, before checking. */
	record RawRow(int line, Map<String, String> values) {

		BatchRow toRow(int index, Path base, List<String> problems) {
			int before = problems.size();
			Field f = new Field(index, line, values, problems);
			String prompt = values.get("prompt");
			if (prompt == null) {
				problems.add(f.where("prompt") + ": missing (every row needs a prompt; it may be empty)");
				prompt = "";
			}
			String negative = values.getOrDefault("negative", "");
			long seed = f.integer("seed", -1, Long.MIN_VALUE, Long.MAX_VALUE);
			int steps = (int) f.integer("steps", 20, 1, 1000);
			double guidance = f.decimal("guidance", 7, 0, 100);
			int width = (int) f.integer("width", 0, 0, 4096);
			int height = (int) f.integer("height", 0, 0, 4096);
			for (String side : List.of("width", "height")) {
				long v = side.equals("width") ? width : height;
				if (v % 8 != 0) problems.add(f.where(side) + ": " + v + " is not a multiple of 8");
			}
			String scheduler = blankToNull(values.get("scheduler"));
			if (scheduler != null && !knownScheduler(scheduler)) {
				problems.add(f.where("scheduler") + ": unknown sampler '" + scheduler + "'; use one of "
					+ String.join(", ", Schedulers.names()));
			}
			Path model = f.path("model", base, true);
			Path image = f.path("image", base, false);
			Path mask = f.path("mask", base, false);
			if (mask != null && image == null) problems.add(f.where("mask") + ": a mask needs an image in the image column");
			double strength = f.decimal("strength", mask != null ? 1.0 : 0.75, 0, 1);
			int feather = (int) f.integer("feather", 4, 0, 64);
			int count = (int) f.integer("count", 1, 1, 100);
			Map<GenerationSetting<?>, Object> settings = new LinkedHashMap<>();
			for (GenerationSetting<?> s : GenerationSettings.ALL) {
				String v = blankToNull(values.get(s.key()));
				try {
					if (v != null) settings.put(s, s.value(v));
				}
				catch (StableDiffusionException e) {
					problems.add(f.where(s.key()) + ": " + e.getMessage());
				}
			}
			BatchControl control = control(f, base);
			if (problems.size() > before) return null;
			return new BatchRow(index, line, prompt, negative, seed, steps, guidance, width, height, scheduler, model,
				image, mask, strength, feather, count, settings, control);
		}

		/** The row's ControlNet columns, checked; null when it has no control image. */
		private BatchControl control(Field f, Path base) {
			Path image = f.path("control", base, false);
			String type = values.getOrDefault("control_type", "");
			type = blankToNull(type) == null ? ControlPreprocessors.DEFAULT : type.trim();
			try {
				ControlPreprocessors.get(type);
			}
			catch (StableDiffusionException e) {
				f.problems().add(f.where("control_type") + ": " + e.getMessage());
			}
			Path controlNet = f.path("controlnet", base, true);
			double scale = f.decimal("control_scale", 1, 0, 10);
			double start = f.decimal("control_start", 0, 0, 1), end = f.decimal("control_end", 1, 0, 1);
			double low = f.decimal("control_low", ControlOptions.DEFAULT_LOW, 0, 255);
			double high = f.decimal("control_high", ControlOptions.DEFAULT_HIGH, 0, 255);
			if (start >= end) f.problems().add(f.where("control_start") + ": " + start + " is not before control_end "
				+ end + " (0 <= start < end <= 1)");
			if (low > high) f.problems().add(f.where("control_low") + ": " + low + " is above control_high " + high);
			if (image != null) return new BatchControl(image, type, controlNet, scale, start, end, low, high);
			if (blankToNull(values.get("control")) == null) {
				for (String column : values.keySet())
					if (column.startsWith("control") && blankToNull(values.get(column)) != null)
						f.problems().add(f.where(column) + ": a ControlNet needs its control image in the control column");
			}
			return null;
		}
	}

	/** Reads one row's fields, adding a problem (and returning the default) for each bad one. */
	private record Field(int index, int line, Map<String, String> values, List<String> problems) {

		String where(String column) {
			return "row " + index + " (line " + line + "), column " + column;
		}

		long integer(String column, long fallback, long min, long max) {
			return value(column, fallback, min, max, v -> Long.parseLong(v.endsWith(".0") ? v.substring(0, v.length() - 2) : v),
				"is not a whole number");
		}

		double decimal(String column, double fallback, double min, double max) {
			return value(column, fallback, min, max, Double::parseDouble, "is not a number (use a dot: 7.5)");
		}

		/** The column's value parsed and within [min, max] (NaN is not), or the fallback with a problem noted. */
		private <T extends Comparable<T>> T value(String column, T fallback, T min, T max, Function<String, T> parse,
			String notANumber)
		{
			String v = blankToNull(values.get(column));
			if (v == null) return fallback;
			try {
				T n = parse.apply(v);
				if (n.compareTo(min) < 0 || n.compareTo(max) > 0) {
					problems.add(where(column) + ": " + v + " is out of range " + min + "-" + max);
					return fallback;
				}
				return n;
			}
			catch (NumberFormatException e) {
				problems.add(where(column) + ": '" + v + "' " + notANumber);
				return fallback;
			}
		}

		Path path(String column, Path base, boolean folder) {
			String v = blankToNull(values.get(column));
			if (v == null) return null;
			Path p = base == null ? Path.of(v) : base.resolve(v).normalize();
			if (folder ? !Files.isDirectory(p) : !Files.isRegularFile(p)) {
				problems.add(where(column) + ": " + (folder ? "no folder " : "no file ") + p);
				return null;
			}
			return p;
		}
	}

	private static boolean knownScheduler(String name) {
		try {
			// the samplers' names do not depend on the model: any valid configuration tells a known name from a typo
			Schedulers.create(name, SchedulerConfig.fromJson("{\"_class_name\": \"PNDMScheduler\"}"), new SplittableRandom(0));
			return true;
		}
		catch (RuntimeException e) {
			return false;
		}
	}

	static String blankToNull(String s) {
		return s == null || s.isBlank() ? null : s.trim();
	}

	// ---- JSON Lines ----

	static List<RawRow> jsonRows(String text, List<String> problems) {
		List<RawRow> rows = new ArrayList<>();
		String[] lines = text.split("\r?\n", -1);
		for (int i = 0; i < lines.length; i++) {
			String line = lines[i].trim();
			if (line.isEmpty()) continue;
			int row = rows.size();
			Map<String, String> values = new LinkedHashMap<>();
			try {
				JsonElement e = JsonParser.parseString(line);
				if (!e.isJsonObject()) throw new JsonParseException("not an object");
				JsonObject o = e.getAsJsonObject();
				for (Map.Entry<String, JsonElement> kv : o.entrySet()) {
					String key = kv.getKey().trim().toLowerCase(Locale.ROOT);
					if (!COLUMNS.containsKey(key)) {
						problems.add("row " + row + " (line " + (i + 1) + "): unknown key '" + kv.getKey() + "'; keys are "
							+ String.join(", ", COLUMNS.keySet()));
						continue;
					}
					JsonElement v = kv.getValue();
					if (v.isJsonNull()) continue;
					if (!v.isJsonPrimitive()) {
						problems.add("row " + row + " (line " + (i + 1) + "), column " + key + ": a text or a number, not " + v);
						continue;
					}
					values.put(key, v.getAsString());
				}
			}
			catch (JsonParseException | IllegalStateException e) {
				problems.add("row " + row + " (line " + (i + 1) + "): not a JSON object on one line: " + line);
			}
			rows.add(new RawRow(i + 1, values));
		}
		return rows;
	}

	// ---- CSV ----

	static List<RawRow> csvRows(String text, List<String> problems) {
		List<List<String>> records = new ArrayList<>();
		List<Integer> lines = new ArrayList<>();
		if (!parseCsv(text, records, lines, problems)) return List.of();
		List<RawRow> rows = new ArrayList<>();
		if (records.isEmpty()) return rows;
		List<String> header = new ArrayList<>();
		for (String h : records.get(0)) header.add(h.trim().toLowerCase(Locale.ROOT));
		boolean headerOk = true;
		for (String h : header) {
			if (!COLUMNS.containsKey(h)) {
				problems.add("header (line 1): unknown column '" + h + "'; columns are " + String.join(", ", COLUMNS.keySet()));
				headerOk = false;
			}
		}
		if (!header.contains("prompt")) {
			problems.add("header (line 1): no 'prompt' column; the first line must name the columns, e.g. prompt,seed,steps");
			headerOk = false;
		}
		if (!headerOk) return List.of();
		for (int r = 1; r < records.size(); r++) {
			List<String> fields = records.get(r);
			if (fields.size() == 1 && fields.get(0).isBlank()) continue; // a blank line
			int row = rows.size();
			if (fields.size() > header.size()) {
				problems.add("row " + row + " (line " + lines.get(r) + "): " + fields.size() + " fields but the header has "
					+ header.size() + " (put text with commas in double quotes)");
			}
			Map<String, String> values = new LinkedHashMap<>();
			for (int c = 0; c < Math.min(fields.size(), header.size()); c++) values.put(header.get(c), fields.get(c));
			rows.add(new RawRow(lines.get(r), values));
		}
		return rows;
	}

	/** RFC 4180 records; {@code lines} gets the line each record starts on. False (with a problem) on an open quote. */
	static boolean parseCsv(String text, List<List<String>> records, List<Integer> lines, List<String> problems) {
		List<String> fields = new ArrayList<>();
		StringBuilder field = new StringBuilder();
		boolean quoted = false, any = false;
		int line = 1, start = 1, quoteLine = 0;
		for (int i = 0; i < text.length(); i++) {
			char ch = text.charAt(i);
			if (quoted) {
				if (ch == '"') {
					if (i + 1 < text.length() && text.charAt(i + 1) == '"') {
						field.append('"');
						i++;
					}
					else quoted = false;
				}
				else {
					if (ch == '\n') line++;
					field.append(ch);
				}
				continue;
			}
			switch (ch) {
				case '"' -> {
					quoted = true;
					quoteLine = line;
					any = true;
				}
				case ',' -> {
					fields.add(field.toString());
					field.setLength(0);
					any = true;
				}
				case '\r' -> { /* part of \r\n */ }
				case '\n' -> {
					fields.add(field.toString());
					records.add(fields);
					lines.add(start);
					fields = new ArrayList<>();
					field.setLength(0);
					any = false;
					start = ++line;
				}
				default -> {
					field.append(ch);
					any = true;
				}
			}
		}
		if (quoted) {
			problems.add("line " + quoteLine + ": a double quote opened here is never closed");
			return false;
		}
		if (any || field.length() > 0) {
			fields.add(field.toString());
			records.add(fields);
			lines.add(start);
		}
		return true;
	}
}
