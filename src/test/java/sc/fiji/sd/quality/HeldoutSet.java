package sc.fiji.sd.quality;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/** The embedded model's {@code heldout.json}: its palette and the combinations never drawn in training. */
record HeldoutSet(Map<String, int[]> colors, List<HeldoutSet.Combo> combos) {

	/** One prompt and what it asks for. */
	record Combo(String color, String shape, String background, String prompt) {
		/** The model's caption grammar. */
		static Combo of(String color, String shape, String background) {
			return new Combo(color, shape, background, "a " + color + " " + shape + " on a " + background + " background");
		}
	}

	static HeldoutSet read(Path modelFolder) throws IOException {
		JsonObject json = JsonParser.parseString(Files.readString(modelFolder.resolve("heldout.json"))).getAsJsonObject();
		Map<String, int[]> colors = new LinkedHashMap<>();
		for (Map.Entry<String, JsonElement> e : json.getAsJsonObject("colors").entrySet()) {
			var rgb = e.getValue().getAsJsonArray();
			colors.put(e.getKey(), new int[] { rgb.get(0).getAsInt(), rgb.get(1).getAsInt(), rgb.get(2).getAsInt() });
		}
		List<Combo> combos = new ArrayList<>();
		for (JsonElement e : json.getAsJsonArray("heldout")) {
			JsonObject o = e.getAsJsonObject();
			combos.add(new Combo(o.get("color").getAsString(), o.get("shape").getAsString(),
				o.get("background").getAsString(), o.get("prompt").getAsString()));
		}
		return new HeldoutSet(colors, combos);
	}
}
