package sc.fiji.sd.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import net.imglib2.img.array.ArrayImgs;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.provenance.PngWriter;

/** Manifest parsing: CSV quoting, JSON Lines, defaults, and the messages for bad rows. */
class BatchManifestTest {

	@TempDir
	Path dir;

	List<BatchRow> read(String name, String text) throws Exception {
		Path p = dir.resolve(name);
		Files.writeString(p, text);
		return BatchManifest.read(p);
	}

	String problem(String name, String text) throws Exception {
		Path p = dir.resolve(name);
		Files.writeString(p, text);
		return assertThrows(BatchManifest.BadManifestException.class, () -> BatchManifest.read(p)).getMessage();
	}

	@Test
	void csvWithQuotesCommasAndLineBreaksInPrompts() throws Exception {
		List<BatchRow> rows = read("m.csv", "prompt,negative,seed,steps\r\n"
			+ "\"a red circle, on blue\",\"blurry, dark\",5,3\r\n"
			+ "\"she said \"\"hi\"\"\",,6,\n"
			+ "\"two\nlines\",x,7,4\n"
			+ "\n"
			+ "plain,,8,2");
		assertEquals(4, rows.size());
		assertEquals("a red circle, on blue", rows.get(0).prompt());
		assertEquals("blurry, dark", rows.get(0).negative());
		assertEquals("she said \"hi\"", rows.get(1).prompt());
		assertEquals("two\nlines", rows.get(2).prompt());
		assertEquals(4, rows.get(2).line());
		assertEquals(7, rows.get(3).line(), "line numbers count the line break inside quotes and the blank line");
		assertEquals(3, rows.get(3).index());
		assertEquals(20, rows.get(1).steps(), "an empty field takes the default");
	}

	@Test
	void jsonLinesWithNumbersOrText() throws Exception {
		List<BatchRow> rows = read("m.jsonl", "{\"prompt\": \"a, \\\"b\\\"\", \"seed\": 9, \"guidance\": 7.5, \"count\": 3}\n"
			+ "\n{\"prompt\": \"c\", \"steps\": \"12\", \"scheduler\": \"Euler a\", \"width\": 128, \"height\": null}\n");
		assertEquals(2, rows.size());
		assertEquals("a, \"b\"", rows.get(0).prompt());
		assertEquals(9, rows.get(0).seed());
		assertEquals(7.5, rows.get(0).guidance());
		assertEquals(3, rows.get(0).count());
		assertEquals(12, rows.get(1).steps());
		assertEquals("Euler a", rows.get(1).scheduler());
		assertEquals(128, rows.get(1).width());
		assertEquals(0, rows.get(1).height());
		assertEquals(3, rows.get(1).line());
	}

	@Test
	void defaultsAreTheTextToImageDefaults() throws Exception {
		BatchRow row = read("m.csv", "prompt\nx\n").get(0);
		GenerationRequest defaults = GenerationRequest.builder().build();
		assertEquals(defaults.steps(), row.steps());
		assertEquals(defaults.guidance(), row.guidance());
		assertEquals(defaults.seed(), row.seed());
		assertEquals(defaults.strength(), row.strength());
		assertEquals(defaults.maskFeather(), row.feather());
		assertEquals(defaults.width(), row.width());
		assertEquals("", row.negative());
		assertNull(row.scheduler());
		assertNull(row.model());
		assertEquals(1, row.count());
		assertEquals(GenerationRequest.Mode.TEXT_TO_IMAGE, row.mode());
		assertEquals("row0000-img00.png", row.fileName(0));
	}

	@Test
	void filesAreRelativeToTheManifestAndChooseTheMode() throws Exception {
		Path images = Files.createDirectories(dir.resolve("in"));
		PngWriter.write(images.resolve("a.png"), ArrayImgs.floats(64, 64, 3), Map.of());
		PngWriter.write(images.resolve("m.png"), ArrayImgs.floats(64, 64, 3), Map.of());
		List<BatchRow> rows = read("m.csv", "prompt,image,mask\nx,in/a.png,\ny,in/a.png,in/m.png\n");
		assertEquals(images.resolve("a.png"), rows.get(0).image());
		assertEquals(GenerationRequest.Mode.IMAGE_TO_IMAGE, rows.get(0).mode());
		assertEquals(0.75, rows.get(0).strength());
		assertEquals(GenerationRequest.Mode.INPAINT, rows.get(1).mode());
		assertEquals(1.0, rows.get(1).strength(), "inpainting's default strength, as in the inpaint command");
	}

	@Test
	void everyBadFieldIsNamedByRowLineAndColumn() throws Exception {
		String m = problem("m.csv", "prompt,seed,steps,guidance,width,scheduler,image,mask,count\n"
			+ "ok,1,2,7,64,,,,1\n"
			+ "bad,abc,0,7,64,,,,1\n"
			+ "bad2,1,2,7.5x,60,Euler b,,missing.png,0\n");
		assertTrue(m.contains("nothing was generated"), m);
		assertTrue(m.contains("row 1 (line 3), column seed: 'abc' is not a whole number"), m);
		assertTrue(m.contains("row 1 (line 3), column steps: 0 is out of range 1-1000"), m);
		assertTrue(m.contains("row 2 (line 4), column guidance: '7.5x' is not a number"), m);
		assertTrue(m.contains("row 2 (line 4), column width: 60 is not a multiple of 8"), m);
		assertTrue(m.contains("row 2 (line 4), column scheduler: unknown sampler 'Euler b'"), m);
		assertTrue(m.contains("row 2 (line 4), column mask: no file "), m);
		assertTrue(m.contains("row 2 (line 4), column count: 0 is out of range"), m);
		assertTrue(m.contains("has 7 problems"), m);
	}

	@Test
	void structuralProblems() throws Exception {
		assertTrue(problem("m.csv", "prompt,colour\nx,red\n").contains("unknown column 'colour'"));
		assertTrue(problem("m.csv", "seed\n1\n").contains("no 'prompt' column"));
		assertTrue(problem("m.csv", "prompt,seed\nx,1,2\n").contains("row 0 (line 2): 3 fields but the header has 2"));
		assertTrue(problem("m.csv", "prompt\n\"open\n").contains("line 2: a double quote opened here is never closed"));
		assertTrue(problem("m.csv", "prompt\n").contains("no rows"));
		assertTrue(problem("m.jsonl", "{\"prompt\": \"x\"}\n[1]\n").contains("row 1 (line 2): not a JSON object"));
		assertTrue(problem("m.jsonl", "{\"prompt\": \"x\", \"sead\": 1}\n").contains("unknown key 'sead'"));
		assertTrue(problem("m.jsonl", "{\"seed\": 1}\n").contains("row 0 (line 1), column prompt: missing"));
		assertTrue(problem("m.txt", "prompt\nx\n").contains("must be a .csv or a .jsonl"));
	}

	/** The ControlNet columns, the macro keys' names: defaults, paths beside the manifest, the spec that re-runs. */
	@Test
	void aControlColumnGivesTheRowAControlNet() throws Exception {
		Path masks = Files.createDirectories(dir.resolve("masks")), nets = Files.createDirectories(dir.resolve("nets/cn"));
		PngWriter.write(masks.resolve("oval.png"), ArrayImgs.floats(64, 64, 3), Map.of());
		List<BatchRow> rows = read("m.csv", "prompt,control,control_type,controlnet,control_scale,control_end\n"
			+ "a,masks/oval.png,,,,\n"
			+ "b,masks/oval.png,scribble,nets/cn,0.5,0.6\n"
			+ "c,,,,,\n");
		BatchControl plain = rows.get(0).control();
		assertEquals(new BatchControl(masks.resolve("oval.png"), "none", null, 1, 0, 1, 100, 200), plain);
		assertEquals(dir.resolve("models/x-controlnet"), plain.controlNetFor(dir.resolve("models/x")),
			"no controlnet column: the one beside the row's model");
		BatchControl named = rows.get(1).control();
		assertEquals(nets, named.controlNet());
		assertEquals(nets, named.controlNetFor(dir.resolve("models/x")));
		assertEquals(0.5, named.scale());
		assertEquals(0.6, named.end());
		assertNull(rows.get(2).control());
		assertTrue(rows.get(1).spec().contains("\"control_scale\":0.5"), rows.get(1).spec());
		assertTrue(!rows.get(2).spec().contains("control"), "rows without one keep the spec they had: "
			+ rows.get(2).spec());
	}

	@Test
	void badControlColumnsAreNamed() throws Exception {
		PngWriter.write(dir.resolve("c.png"), ArrayImgs.floats(8, 8, 3), Map.of());
		String message = problem("m.jsonl", "{\"prompt\": \"a\", \"control\": \"nope.png\"}\n"
			+ "{\"prompt\": \"b\", \"control\": \"c.png\", \"control_type\": \"depth\"}\n"
			+ "{\"prompt\": \"c\", \"control\": \"c.png\", \"control_start\": 0.8, \"control_end\": 0.2}\n"
			+ "{\"prompt\": \"d\", \"control\": \"c.png\", \"control_low\": 250}\n"
			+ "{\"prompt\": \"e\", \"control_scale\": 0.5}\n"
			+ "{\"prompt\": \"f\", \"control\": \"c.png\", \"controlnet\": \"no-net\", \"control_scale\": -1}\n");
		assertTrue(message.contains("row 0 (line 1), column control: no file " + dir.resolve("nope.png")), message);
		assertTrue(message.contains("row 1 (line 2), column control_type: Unknown control type \"depth\""), message);
		assertTrue(message.contains("row 2 (line 3), column control_start: 0.8 is not before control_end 0.2"), message);
		assertTrue(message.contains("row 3 (line 4), column control_low: 250.0 is above control_high 200.0"), message);
		assertTrue(message.contains("row 4 (line 5), column control_scale: a ControlNet needs its control image in the "
			+ "control column"), message);
		assertTrue(message.contains("row 5 (line 6), column controlnet: no folder " + dir.resolve("no-net")), message);
		assertTrue(message.contains("row 5 (line 6), column control_scale: -1 is out of range 0.0-10.0"), message);
	}
}
